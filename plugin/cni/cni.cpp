#include "cni/cni.h"

#include "topo/model/ifname.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "cni/json_limits.h"
#include "topo/netns.h"

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

constexpr size_t kMaxNetworkName = 128;

}  // namespace

void validate_container_id(const std::string& id) {
  // SPEC: "must be non-empty ... alphanumeric, plus hyphen, underscore and period", first char alphanumeric.
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0])) ||
      !std::all_of(id.begin(), id.end(), is_name_char) || id.size() > 255) {
    throw Error(kInvalidEnvironment, "invalid CNI_CONTAINERID", fmt::format("got '{}'", id));
  }
}

void validate_ifname(const std::string& name, const std::string& what, int code) {
  // The same rule as templates' (topo/model/ifname.h).
  if (auto why = bad_ifname(name)) throw Error(code, fmt::format("invalid {}", what), *why);
}

void validate_network_name(const std::string& name) {
  // The name is a directory of the state dir (a file name has at most 255 bytes: a 300-character name failed
  // as ENAMETOOLONG after rendering). 128 leaves room and fits any Kubernetes-generated name in use.
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), is_name_char) || name.size() > kMaxNetworkName) {
    throw Error(kInvalidConfig, "invalid network config: key 'name'",
                fmt::format("'{}' must start with a letter or digit, contain only letters, digits, '_', "
                            "'-' and '.', and be at most {} characters long (it has {})",
                            printable(name.substr(0, 80)) + (name.size() > 80 ? "..." : ""), kMaxNetworkName,
                            name.size()));
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

void validate_container_netns(const Environment& e) {
  if (e.command != "ADD" && e.command != "CHECK") return;
  auto id = netns_identity(e.netns);
  if (!id) {
    throw Error(kInvalidEnvironment, fmt::format("CNI_NETNS '{}' is not a network namespace", e.netns),
                "the path is missing, or is not a mounted network namespace (a plain file, another namespace type)");
  }
  if (*id == own_netns_identity()) {
    throw Error(kInvalidEnvironment, fmt::format("CNI_NETNS '{}' is the node's own network namespace", e.netns),
                "the plugin runs in it; a container's namespace must be a different one");
  }
}

json parse_config(const std::string& text) {
  if (auto problem = check_json_limits(text)) {
    if (problem->key.empty()) throw Error(kDecodeFailure, "cannot decode the network config", problem->message);
    throw Error(kInvalidConfig, fmt::format("invalid network config: key '{}': {}", problem->key, problem->message));
  }
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
