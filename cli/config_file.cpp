#include "config_file.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "topo/attachment.h"
#include "topo/journal.h"
#include "topo/template/template.h"

namespace topo::cli {

using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot read", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 1-based line and column of a byte offset.
std::pair<int, int> position(const std::string& text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

json parse_at(const std::string& path, const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    auto [line, column] = position(text, e.byte == 0 ? 0 : e.byte - 1);
    throw SpecError(path, line, column, "", fmt::format("invalid JSON: {}", e.what()));
  }
}

std::optional<json> cached_result(const std::string& network, const std::string& container_id,
                                  const std::string& ifname) {
  // libcni caches each ADD result as <network>-<container id>-<ifname> under /var/lib/cni/results.
  std::ifstream in(fmt::format("/var/lib/cni/results/{}-{}-{}", network, container_id, ifname));
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    json cache = json::parse(ss.str());
    if (cache.contains("result")) return cache["result"];
  } catch (const json::parse_error&) {
  }
  return std::nullopt;
}

// The entry's journal (after an upgrade, its pod interface's journal from before journals named the entry).
std::optional<JournalRecord> journal_of(const Attachment& a) {
  Journal journal;
  return journal.load(journal.resolve(a));
}

}  // namespace

bool reference_plugin_served_by_topocni(const std::string& type, const std::string& search_path) {
  static const std::set<std::string> kReferenceNames = {"bridge", "host-device", "macvlan", "ptp", "tuning", "vlan", "vrf"};
  if (!kReferenceNames.contains(type)) return true;
  std::stringstream in(search_path);
  for (std::string dir; std::getline(in, dir, ':');) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::path(dir) / type;
    if (dir.empty() || !std::filesystem::exists(p, ec)) continue;
    return std::filesystem::canonical(p, ec).filename() == "topocni";
  }
  return false;
}

ConfigFile::ConfigFile(std::string path) : path_(std::move(path)), text_(read_file(path_)) {
  json_ = parse_at(path_, text_);
  if (!json_.is_object()) throw SpecError(path_, 1, 1, "", "a network config must be a JSON object");
}

std::vector<PluginConfig> ConfigFile::plugin_configs(const std::string& container_id, const std::string& ifname,
                                                     const std::string& prev_result_file) const {
  std::vector<json> candidates;
  if (json_.contains("plugins")) {
    if (!json_["plugins"].is_array()) throw SpecError(path_, 0, 0, "plugins", "must be a list");
    for (json entry : json_["plugins"]) {
      // As libcni builds each plugin's stdin: the entry plus the list's name and cniVersion.
      entry["name"] = json_.value("name", "");
      entry["cniVersion"] = json_.value("cniVersion", "");
      candidates.push_back(entry);
    }
  } else {
    candidates.push_back(json_);
  }
  TemplateLibrary library(Options::from_environment().template_dirs);
  const char* env_path = std::getenv("CNI_PATH");
  const std::string cni_path = env_path && *env_path ? env_path : "/opt/cni/bin";  // where a runtime looks
  std::vector<PluginConfig> out;
  for (json& c : candidates) {
    std::string name = c.contains("template") ? c.value("template", "") : c.value("type", "");
    if (name.empty()) continue;
    auto found = library.find(name);
    if (!found || (!c.contains("template") && !reference_plugin_served_by_topocni(name, cni_path))) continue;
    if (!c.contains("prevResult")) {
      std::string network = c.value("name", "");
      if (!prev_result_file.empty()) {
        c["prevResult"] = parse_at(prev_result_file, read_file(prev_result_file));
      } else if (auto cached = cached_result(network, container_id, ifname)) {
        c["prevResult"] = *cached;
      } else if (auto record = journal_of({network, container_id, ifname, name}); record && !record->prev_result.is_null()) {
        c["prevResult"] = record->prev_result;
      }
    }
    out.push_back({c, name});
  }
  return out;
}

SpecError ConfigFile::locate(const SpecError& e) const {
  if (e.file != "<network config>") return e;
  std::string key = e.path.starts_with("config.") ? e.path.substr(7) : e.path;
  size_t at = text_.find("\"" + key + "\"");
  if (at == std::string::npos) return SpecError(path_, 0, 0, key, e.message);
  auto [line, column] = position(text_, at);
  return SpecError(path_, line, column, key, e.message);
}

}  // namespace topo::cli
