# Writes a C++ file holding every built-in template: name -> YAML text (comment lines emptied).
separate_arguments(INPUTS)
set(body "")
foreach(file IN LISTS INPUTS)
  get_filename_component(stem ${file} NAME_WE)
  file(READ ${file} text)
  # Comment lines become empty lines: yaml-cpp scans a comment character by character, and in the built-in
  # templates (half comments) that was a fifth of every ADD's parse. Line and column numbers stay as in
  # specs/, so messages still point there; tests/unit/test_builtin_templates.cpp checks the tree is the same.
  string(REGEX REPLACE "^[ ]*#[^\n]*" "" text "${text}")
  string(REGEX REPLACE "\n[ ]*#[^\n]*" "\n" text "${text}")
  set(body "${body}  {\"${stem}\", R\"topo_yaml(${text})topo_yaml\"},\n")
endforeach()
file(WRITE ${OUTPUT} "// Generated from specs/*.yaml by embed_templates.cmake. Do not edit.
#include <map>
#include <string>

namespace topo {
const std::map<std::string, std::string>& builtin_templates() {
  static const std::map<std::string, std::string> templates = {
${body}  };
  return templates;
}
}  // namespace topo
")
