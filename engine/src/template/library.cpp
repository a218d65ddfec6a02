#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "template/builtin.h"
#include "topo/error.h"
#include "topo/template/template.h"

namespace topo {

namespace {

std::optional<TemplateSource> from_dir(const std::string& dir, const std::string& name) {
  std::filesystem::path path = std::filesystem::path(dir) / (name + ".yaml");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SystemError(errno, "cannot open template " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw SystemError(errno, "cannot read template " + path.string());
  return TemplateSource{name, path.string(), text.str(), false};
}

TemplateSource from_builtin(const std::string& name, std::string_view text) {
  return TemplateSource{name, "<builtin>/" + name + ".yaml", std::string(text), true, builtin_compiled(name)};
}

}  // namespace

bool valid_template_name(std::string_view name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

TemplateLibrary::TemplateLibrary(std::vector<std::string> search_dirs) : dirs_(std::move(search_dirs)) {}

std::optional<TemplateSource> TemplateLibrary::find(const std::string& name) const {
  if (!valid_template_name(name)) return std::nullopt;
  for (const auto& dir : dirs_)
    if (auto found = from_dir(dir, name)) return found;
  const auto& builtins = builtin_templates();
  auto it = builtins.find(name);
  if (it == builtins.end()) return std::nullopt;
  return from_builtin(name, it->second);
}

std::optional<TemplateSource> TemplateLibrary::find_fragment(const std::string& name) const {
  if (!valid_template_name(name)) return std::nullopt;
  for (const auto& dir : dirs_)
    if (auto found = from_dir((std::filesystem::path(dir) / "fragments").string(), name)) return found;
  return std::nullopt;
}

std::vector<TemplateSource> TemplateLibrary::list() const {
  // name -> every source in search order; the first is the one find() returns.
  std::map<std::string, std::vector<TemplateSource>> by_name;
  for (const auto& dir : dirs_) {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    for (const auto& name : names)
      if (valid_template_name(name))
        if (auto found = from_dir(dir, name)) by_name[name].push_back(std::move(*found));
  }
  for (const auto& [name, text] : builtin_templates())
    by_name[std::string(name)].push_back(from_builtin(std::string(name), text));
  std::vector<TemplateSource> out;
  for (auto& [name, sources] : by_name)
    for (auto& s : sources) out.push_back(std::move(s));
  return out;
}

}  // namespace topo
