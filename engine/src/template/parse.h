// The one place template text becomes a tree. Built-in templates never come here: they are compiled at build
// time (template/compiled.h), and a counter lets a test prove that an ADD of one parses nothing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>

#include "template/tree.h"

namespace topo::tmpl {

// Parses a template or fragment; invalid YAML is a SpecError at the parser's position in `file`.
YAML::Node parse_yaml(const std::string& file, const std::string& text);

// parse_yaml, flattened into the table the engine reads (template/tree.h). A text that expands to more than
// Tree::kMaxNodes nodes (aliases of aliases) is a SpecError too.
std::shared_ptr<const Tree> parse_template_text(const std::string& file, const std::string& text);

// How many texts parse_template_text has parsed in this process.
uint64_t template_text_parses();

}  // namespace topo::tmpl
