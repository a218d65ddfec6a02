// The functions an expression may call (`f(x, a)` or `x | f(a)`). The table is closed: a template cannot add
// functions, and none of them reaches anything but its arguments and HostFacts.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace topo {
class HostFacts;
}

namespace topo::tmpl {

struct Function {
  size_t min_args;
  size_t max_args;
  // Throws ExprError naming the function, what it expected and what it found.
  nlohmann::json (*call)(const std::vector<nlohmann::json>& args, HostFacts* facts);
  // For a function whose first arguments can decide its result, as `and` and `or` short-circuit: given the
  // arguments evaluated so far (at least one), true when the rest are not needed. They are then not
  // evaluated, and `call` gets only those before them.
  bool (*decided)(const std::vector<nlohmann::json>& evaluated) = nullptr;
};

// Null for a name that is not in the table.
const Function* find_function(std::string_view name);

// The names, sorted, for "unknown function" messages and the docs test.
std::vector<std::string_view> function_names();

}  // namespace topo::tmpl
