// The node as the checks see it: the CNI config files, topocni's entries in them, the underlay interfaces.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "doctor.h"
#include "../config_file.h"
#include "topo/attachment.h"
#include "topo/template/template.h"

namespace topo::cli::doctor {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Entry::where() const { return single ? file : fmt::format("{} plugins[{}]", file, index); }

std::string status_name(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::Problem: return "problem";
    case Status::Error: return "error";
  }
  return "";
}

json to_json(const Finding& f) {
  return {{"check", f.check}, {"status", status_name(f.status)}, {"subject", f.subject},
          {"checked", f.checked}, {"found", f.found}, {"fix", f.fix.empty() ? json(nullptr) : json(f.fix)}};
}

namespace {

std::optional<std::string> read_trimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string value;
  std::getline(in, value);
  return value;
}

// A config file as libcni's ConfFiles/LoadConf/LoadConfList read it: .conflist holds `plugins`; .conf and
// .json hold one plugin (or, as libcni also accepts, a list).
ConfigFile load_config(const fs::path& path) {
  ConfigFile c;
  c.path = path.string();
  std::ifstream in(path);
  if (!in) {
    c.error = "cannot read";
    return c;
  }
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    c.error = "not a JSON object";
  } else if (j.contains("plugins")) {
    if (!j["plugins"].is_array()) {
      c.error = "`plugins` is not a list";
    } else {
      c.plugins = j["plugins"];
    }
  } else if (j.contains("type")) {
    c.single = true;
    c.plugins.push_back(j);
  } else {
    c.error = "neither `plugins` nor `type`";
  }
  return c;
}

}  // namespace

std::optional<std::string> read_sysctl(const std::string& dir, const std::string& ifname, const std::string& key) {
  return read_trimmed(fmt::format("/proc/sys/{}/{}/{}", dir, ifname, key));
}

std::optional<std::string> read_sysctl(const std::string& dotted) {
  std::string path = dotted;
  std::replace(path.begin(), path.end(), '.', '/');
  return read_trimmed("/proc/sys/" + path);
}

Node Node::gather(const Options& options) {
  Node node;
  node.options = options;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options.cni_conf_dir, ec)) {
    auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".conf" || ext == ".conflist" || ext == ".json")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());  // the order libcni reads them in
  TemplateLibrary library(topo::Options::from_environment().template_dirs);
  for (const auto& path : files) {
    ConfigFile c = load_config(path);
    for (size_t i = 0; i < c.plugins.size(); ++i) {
      const json& p = c.plugins[i];
      if (!p.is_object()) continue;
      std::string type = p.contains("type") && p["type"].is_string() ? p["type"].get<std::string>() : "";
      std::string name = type;
      if (p.contains("template")) name = p["template"].is_string() ? p["template"].get<std::string>() : "";
      if (name.empty() || !library.find(name)) continue;
      // A reference plugin's name (macvlan...) is Debian's binary unless it is topocni under that name.
      if (!p.contains("template") && !reference_plugin_served_by_topocni(name, options.cni_bin_dir)) continue;
      node.entries.push_back({c.path, i, c.single, p, type, name});
    }
    node.configs.push_back(std::move(c));
  }
  auto add_underlay = [&](const std::string& name, const std::string& why) {
    for (const auto& [n, w] : node.underlay)
      if (n == name) return;
    node.underlay.emplace_back(name, why);
  };
  if (!options.interfaces.empty()) {
    for (const auto& i : options.interfaces) add_underlay(i, "given with --interface");
  } else {
    for (const auto& e : node.entries) {
      if (e.config.contains("hostInterface") && e.config["hostInterface"].is_string())
        add_underlay(e.config["hostInterface"].get<std::string>(), "hostInterface of " + e.where());
    }
  }
  return node;
}

}  // namespace topo::cli::doctor
