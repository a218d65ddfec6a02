// The CNI files a runtime reads: the plugin binaries in the bin dirs, and the order of the conflists that
// chain topocni after a main plugin.
#include <unistd.h>

#include <set>
#include <sstream>

#include <fmt/format.h>

#include "doctor.h"

namespace topo::cli::doctor {

namespace {

std::vector<std::string> split_path(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string dir; std::getline(ss, dir, ':');)
    if (!dir.empty()) out.push_back(dir);
  return out;
}

// The runtime execs CNI_PATH/<type>: the first dir holding an executable file of that name wins (libcni's
// FindInPath).
std::optional<std::string> find_plugin(const std::vector<std::string>& dirs, const std::string& name) {
  for (const auto& d : dirs) {
    std::string path = d + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return std::nullopt;
}

void check_binaries(const Node& node, std::vector<Finding>& out) {
  auto dirs = split_path(node.options.cni_bin_dir);
  // The names conflists exec; with no entry, topocni itself (the node is meant to run it).
  std::vector<std::pair<std::string, std::string>> names;
  std::set<std::string> seen;
  for (const auto& e : node.entries)
    if (!e.type.empty() && seen.insert(e.type).second) names.emplace_back(e.type, "`type` of " + e.where());
  if (names.empty()) names.emplace_back("topocni", "no topocni entry in " + node.options.cni_conf_dir);
  auto topocni = find_plugin(dirs, "topocni");
  for (const auto& [name, why] : names) {
    std::string checked = fmt::format("an executable {} in {} ({})", name, node.options.cni_bin_dir, why);
    if (auto path = find_plugin(dirs, name)) {
      out.push_back({"cni-plugin-binary", Status::Ok, name, checked, *path, ""});
      continue;
    }
    std::string dir = dirs.empty() ? "/opt/cni/bin" : dirs.front();
    std::string fix;
    if (name == "topocni") {
      fix = fmt::format("install -m 0755 /path/to/topocni {}/topocni", dir);
    } else if (topocni) {
      fix = fmt::format("ln -s topocni {}/{}   # next to {}", topocni->substr(0, topocni->rfind('/')), name, *topocni);
    } else {
      fix = fmt::format("install -m 0755 /path/to/topocni {0}/topocni && ln -s topocni {0}/{1}", dir, name);
    }
    out.push_back({"cni-plugin-binary", Status::Problem, name, checked,
                   fmt::format("no executable {} in any of them: the runtime fails every pod of this network with "
                               "\"failed to find plugin \\\"{}\\\"\"",
                               name, name),
                   fix});
  }
}

// topocni is a chained plugin: it renders from prevResult, the result of the plugins before it in the list.
// An entry first in its list (or alone in a .conf) has no main plugin to chain on, and every ADD fails.
void check_order(const Node& node, std::vector<Finding>& out) {
  bool any = false;
  for (const auto& c : node.configs) {
    if (c.error) {
      any = true;
      out.push_back({"cni-config", Status::Problem, c.path, "that each file in the CNI config dir is a network config",
                     fmt::format("{}: {}; the runtime skips or rejects it", c.path, *c.error),
                     fmt::format("fix or remove {}", c.path)});
    }
  }
  std::set<std::pair<std::string, size_t>> ours;
  for (const auto& e : node.entries) ours.emplace(e.file, e.index);
  for (const auto& e : node.entries) {
    any = true;
    std::string checked = fmt::format("that {} ({}) comes after the plugin it chains on", e.where(), e.type);
    // The last plugin before it that is not topocni's: the main plugin (or another chained one after it).
    std::optional<std::pair<size_t, std::string>> main_before;
    for (const auto& c : node.configs) {
      if (c.path != e.file) continue;
      for (size_t j = 0; j < e.index && j < c.plugins.size(); ++j) {
        if (ours.contains({e.file, j})) continue;
        const auto& p = c.plugins[j];
        bool typed = p.is_object() && p.contains("type") && p["type"].is_string();
        main_before.emplace(j, typed ? p["type"].get<std::string>() : "?");
      }
    }
    if (!main_before) {
      out.push_back({"cni-chain-order", Status::Problem, e.where(), checked,
                     fmt::format("it is {}, with no main plugin before it: ADD gets no prevResult (no pod address) "
                                 "and fails",
                                 e.single         ? "a single-plugin config"
                                 : e.index == 0 ? "first in its plugins list"
                                                : "after topocni entries only"),
                     e.single ? fmt::format("turn {} into a .conflist whose plugins list the main plugin (e.g. macvlan "
                                            "with its ipam) first, then this entry",
                                            e.file)
                              : fmt::format("edit {}: move the entry of type {} after the main plugin (e.g. macvlan)",
                                            e.file, e.type)});
    } else {
      out.push_back({"cni-chain-order", Status::Ok, e.where(), checked,
                     fmt::format("after {} (plugins[{}])", main_before->second, main_before->first), ""});
    }
  }
  if (!any) {
    out.push_back({"cni-chain-order", Status::Ok, "", "the order of topocni entries in the CNI configs",
                   fmt::format("no topocni entry in {}", node.options.cni_conf_dir), ""});
  }
}

}  // namespace

void check_cni_files(const Node& node, std::vector<Finding>& out) {
  check_binaries(node, out);
  check_order(node, out);
}

}  // namespace topo::cli::doctor
