# Writes a C++ file holding every built-in template: name -> YAML text.
separate_arguments(INPUTS)
set(body "")
foreach(file IN LISTS INPUTS)
  get_filename_component(stem ${file} NAME_WE)
  file(READ ${file} text)
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
