// A built-in template in compiled form: its YAML tree as a flat table, made at build time by
// engine/gen/compile_templates.cpp from specs/*.yaml, so an ADD rebuilds the tree without scanning text.
// The rebuilt tree is the one yaml-cpp would have parsed: same node types, scalars, tags, styles and marks,
// so every message about a built-in still points at its line and column in specs/
// (tests/unit/test_builtin_templates.cpp compares the two node for node).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <span>
#include <string_view>

namespace topo {

namespace tmpl {

// One node, in pre-order: a list's `size` items follow it, each a subtree; a map's `size` pairs follow it,
// each a key subtree then a value subtree.
struct CompiledNode {
  uint8_t type;   // YAML::NodeType::value
  uint8_t style;  // YAML::EmitterStyle::value
  int32_t pos, line, column;  // YAML::Mark, 0-based as yaml-cpp keeps it
  uint32_t size;
  std::string_view tag;     // "?" for a plain scalar, "!" for a quoted one, as the parser sets it
  std::string_view scalar;  // scalars only
};

// Rebuilds the tree. `nodes` must be one whole tree (the generator's output): a malformed table throws
// std::logic_error rather than reading past its end.
YAML::Node build_tree(std::span<const CompiledNode> nodes);

}  // namespace tmpl

struct CompiledTemplate {
  std::span<const tmpl::CompiledNode> nodes;
};

}  // namespace topo
