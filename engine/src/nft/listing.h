// One listing of table inet topocni with rule handles: what observe() decodes and what apply() needs to
// delete by handle and to decide whether the table (or a chain) ends up empty.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace topo::nft {

class Context;

struct ListedRule {
  std::string chain;
  uint64_t handle{0};
  std::string comment;  // "" when the rule has none
  nlohmann::json expr;  // libnftables-json(5) statements
};

struct Listing {
  bool exists{false};                    // table inet topocni is present
  std::map<std::string, size_t> chains;  // every chain in the table → its number of rules (anyone's)
  std::vector<ListedRule> rules;         // every rule in the table, in listing order

  size_t rule_count() const { return rules.size(); }
};

// Lists only our table (`list table inet topocni`), so the cost does not grow with other tables' rules.
// A missing table is an empty Listing, not an error.
Listing list_table(Context& ctx);

}  // namespace topo::nft
