// A built-in template in compiled form: its YAML tree as the flat table template/tree.h reads, generated at
// build time by engine/gen/compile_templates.cpp from specs/*.yaml. An ADD reads the table in place: no text
// is scanned and no node is built. The table is the tree yaml-cpp parses from the file: same node types,
// scalars, tags, styles and marks, so every message about a built-in still points at its line and column in
// specs/ (tests/unit/test_builtin_templates.cpp compares the two node for node).
#pragma once

#include <span>

#include "template/tree.h"

namespace topo {

struct CompiledTemplate {
  std::span<const tmpl::TreeNode> nodes;
};

}  // namespace topo
