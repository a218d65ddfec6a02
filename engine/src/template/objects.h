// The object kinds a scope section lists (links, addresses, routes, rules, nat, sysctls): their keys, checked
// when a template is loaded, and their conversion to model values, with validation, when it is rendered.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "template/node.h"
#include "template/tree.h"
#include "topo/model/state.h"

namespace topo::tmpl {

// `node` is the value of a `host:`, `container:` or `shared:` key; `key` is that key (the root of error paths).
void check_section(const std::string& file, const Node& node, const std::string& key);

// Appends the section's objects, in `scope`, to `out`. `key` is the section's own key (`shared:` objects are
// in the host scope). `roots` is the object the renderer's env reads; `item` and `index` are bound in it
// while a looped item renders.
void render_section(const Node& node, const std::string& key, const std::string& scope,
                    const NodeRenderer& renderer, nlohmann::json& roots, State& out);

}  // namespace topo::tmpl
