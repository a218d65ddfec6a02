// The one place template text becomes a YAML tree. Built-in templates never come here: they are compiled
// at build time (template/compiled.h), and a counter lets a test prove that an ADD of one parses nothing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

namespace topo::tmpl {

// Parses a template or fragment; invalid YAML is a SpecError at the parser's position in `file`.
YAML::Node parse_template_text(const std::string& file, const std::string& text);

// How many texts parse_template_text has parsed in this process.
uint64_t template_text_parses();

}  // namespace topo::tmpl
