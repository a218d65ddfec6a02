#include "cni/cni.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

namespace topo::cni {

using nlohmann::json;

json error_json(const std::string& cni_version, int code, const std::string& msg, const std::string& details) {
  json j = {{"cniVersion", cni_version.empty() ? "1.1.0" : cni_version}, {"code", code}, {"msg", msg}};
  if (!details.empty()) j["details"] = details;
  return j;
}

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

}  // namespace

void validate_container_id(const std::string& id) {
  // SPEC: "must be non-empty ... alphanumeric, plus hyphen, underscore and period", first char alphanumeric.
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0])) ||
      !std::all_of(id.begin(), id.end(), is_name_char) || id.size() > 255) {
    throw Error(kInvalidEnvironment, "invalid CNI_CONTAINERID", fmt::format("got '{}'", id));
  }
}

void validate_ifname(const std::string& name, const std::string& what, int code) {
  // Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
  bool ok = !name.empty() && name.size() <= 15 && name != "." && name != ".." &&
            std::none_of(name.begin(), name.end(),
                         [](char c) { return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)); });
  if (!ok) throw Error(code, fmt::format("invalid {}", what), fmt::format("'{}' is not a valid interface name", name));
}

void validate_network_name(const std::string& name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), is_name_char)) {
    throw Error(kInvalidConfig, "invalid network config: key 'name'",
                fmt::format("'{}' must start with a letter or digit and contain only letters, digits, '_', "
                            "'-' and '.'",
                            name));
  }
}

Environment read_environment() {
  Environment e{env("CNI_COMMAND"), env("CNI_CONTAINERID"), env("CNI_NETNS"), env("CNI_IFNAME"),
                env("CNI_ARGS"),    env("CNI_PATH")};
  if (e.command.empty()) throw Error(kInvalidEnvironment, "CNI_COMMAND is not set");
  static const std::vector<std::string> kCommands = {"ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"};
  if (std::find(kCommands.begin(), kCommands.end(), e.command) == kCommands.end()) {
    throw Error(kInvalidEnvironment, "unknown CNI_COMMAND", fmt::format("got '{}'", e.command));
  }
  if (e.command == "ADD" || e.command == "DEL" || e.command == "CHECK") {
    validate_container_id(e.container_id);
    if (e.ifname.empty()) throw Error(kInvalidEnvironment, "CNI_IFNAME is not set");
    validate_ifname(e.ifname, "CNI_IFNAME", kInvalidEnvironment);
    // DEL may come after the namespace is gone (SPEC: "plugins should handle CNI_NETNS being empty").
    if (e.command != "DEL" && e.netns.empty()) throw Error(kInvalidEnvironment, "CNI_NETNS is not set");
  }
  return e;
}

json parse_config(const std::string& text) {
  json config;
  try {
    config = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(kDecodeFailure, "cannot decode the network config", e.what());
  }
  if (!config.is_object()) throw Error(kDecodeFailure, "the network config is not a JSON object");
  for (const char* key : {"cniVersion", "name", "type"}) {
    auto it = config.find(key);
    if (it == config.end()) throw Error(kInvalidConfig, fmt::format("invalid network config: key '{}' is missing", key));
    if (!it->is_string()) {
      throw Error(kInvalidConfig, fmt::format("invalid network config: key '{}' must be a string", key),
                  fmt::format("got {}", it->dump()));
    }
  }
  const auto& versions = supported_versions();
  auto version = config["cniVersion"].get<std::string>();
  if (std::find(versions.begin(), versions.end(), version) == versions.end()) {
    throw Error(kIncompatibleVersion, fmt::format("unsupported cniVersion '{}'", version),
                fmt::format("supported: {}", fmt::join(versions, ", ")));
  }
  validate_network_name(config["name"].get<std::string>());
  if (auto it = config.find("prevResult"); it != config.end()) {
    // Any supported version in, one internal form (1.x) out: templates and the journal see only that.
    if (it->is_null()) {
      config.erase(it);
    } else {
      config["prevResult"] = normalize_prev_result(*it);
    }
  }
  return config;
}

}  // namespace topo::cni
