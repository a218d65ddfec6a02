// The template's `allocate:` section: declarations checked at load, values asked of the Allocator at render.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "template/expression.h"
#include "template/tree.h"
#include "topo/template/template.h"

namespace topo::tmpl {

struct Allocation {
  TableRequest request;
  bool per_item{false};  // `for:` was given
  Node for_each;   // `for:` — a list expression: one table per item
  Mark mark;      // of the name, for messages
};

std::vector<Allocation> load_allocations(const std::string& file, const Node& node);

// Asks `allocator` for every declaration, in order, and returns {name: table} (or {name: [tables]} for a
// `for:` allocation). `env` must hold params, cni and prev: a `for:` expression may read those, not vars.
nlohmann::json allocate(const std::string& file, const std::vector<Allocation>& allocations,
                        Allocator* allocator, const EvalEnv& env);

}  // namespace topo::tmpl
