// One listing of table inet topocni with rule handles: what observe() decodes and what apply() needs to
// delete by handle and to decide whether the table (or a chain) ends up empty.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "topo/model/nat.h"

namespace topo::nft {

class Context;

struct ListedRule {
  std::string chain;
  uint64_t handle{0};
  std::optional<std::string> owner;  // from the "topocni:<owner>" comment; nullopt for a rule not ours
  NatEntry entry;                     // decode_rule() with an empty scope (set by the caller); only for the
                                      // owners list_table() was asked to decode
};

// How an existing chain named like one of ours is defined (NFT_MSG_GETCHAIN).
struct ChainShape {
  bool as_ours{false};                  // our type, hook and priority (layout.h chain_spec)
  std::optional<std::string> comment;   // its comment (userdata), if any
  std::string text;                     // what it is, for errors: "type nat hook postrouting priority 100"
};

struct Listing {
  bool exists{false};                    // table inet topocni is present
  std::optional<std::string> comment;    // the table's comment (userdata), if any
  std::map<std::string, ChainShape> shapes;  // our chain names (layout.h kChains) → how the chain of that name is defined
  std::map<std::string, size_t> chains;  // chains that exist → their number of rules (anyone's); ours
                                         // always when present, another chain when it has rules
  size_t others{0};                      // chains, sets, ... in the table besides our chains
  std::vector<ListedRule> rules;         // every rule in the table, in listing order

  // topocni made the table (ownership.h): it carries our comment, or it has no comment and holds exactly
  // our two chains as an earlier release made them. Only then may topocni delete it.
  bool table_ours() const;
  // topocni made this chain: defined as ours, and it carries our comment or (no comment) sits in a table of
  // ours. Only then may topocni delete it.
  bool chain_ours(std::string_view chain) const;
};

// Lists only our table: NFT_MSG_GETTABLE and NFT_MSG_GETCHAIN of our table and chains by name (the chain
// dump cannot be filtered by table; the table's use count tells whether it holds anything else), and one
// NFT_MSG_GETRULE dump filtered by table (NFTA_RULE_TABLE), so the cost does not grow with other tables'
// rules. A missing table (ENOENT) is an empty Listing, not an error.
// Only the rules of `decode` (owners) are parsed and decoded: a node with hundreds of pods has hundreds of
// rules here, and an ADD or DEL needs its own; the others are only counted per chain, from their raw
// attributes (chain, handle, comment), which costs a fraction of a full parse.
// Without `with_rules` the rule dump is skipped: `rules` stays empty and `chains` holds our existing chains
// with counts of 0 (a creates-only commit needs no more).
Listing list_table(Context& ctx, const std::set<std::string>& decode, bool with_rules);

}  // namespace topo::nft
