// CNI protocol types: the runtime's environment, the network config on stdin, errors and results
// (CNI SPEC 1.1.0 and the 0.3.x/0.4.0 versions it still requires plugins to speak).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace topo::cni {

inline const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> v = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return v;
}

// Well-known error codes (SPEC "Error" section); 100+ are topocni's own (docs/architecture.md lists them).
enum Code : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kGeneric = 999,         // SPEC: "an unknown or generic error": what plugins without a CNI error of their own answer
  kTemplateError = 100,   // the template is missing or wrong (file, line, key in the message)
  kConflict = 101,        // the topology would touch something topocni does not own, or a reference is missing
  kKernelRefused = 102,   // netlink/nftables/sysctl refused a change; the ADD was rolled back
  kCheckFailed = 103,     // CHECK found the kernel differing from the template
  kInternal = 110,
};

class Error : public std::runtime_error {
 public:
  Error(int code_, std::string msg_, std::string details_ = "")
      : std::runtime_error(msg_), code(code_), msg(std::move(msg_)), details(std::move(details_)) {}
  const int code;
  const std::string msg, details;
};

// The error JSON of the spec, for stdout.
nlohmann::json error_json(const std::string& cni_version, int code, const std::string& msg,
                          const std::string& details);

struct Environment {
  std::string command;       // CNI_COMMAND
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS (may be empty on DEL)
  std::string ifname;        // CNI_IFNAME
  std::string args;          // CNI_ARGS
  std::string path;          // CNI_PATH
};

// Reads and validates CNI_* for the command (code 4 naming the variable when one is missing or invalid).
Environment read_environment();

// ADD and CHECK: CNI_NETNS must be a network namespace (not a plain file, not a namespace of another type)
// and not the one the plugin runs in (the node's): code 4 naming it. DEL and GC accept any path: one that is
// not a container's namespace only means the container side is gone (cni_scopes()).
void validate_container_netns(const Environment& e);

// Validates names that reach the kernel or the file system: container ids, interface and network names.
void validate_container_id(const std::string& id);  // throws Error(4)
void validate_ifname(const std::string& name, const std::string& what, int code);
void validate_network_name(const std::string& name);  // throws Error(7)

// Parses the network config from stdin: JSON (code 6), required keys and types (code 7), cniVersion (code 1).
nlohmann::json parse_config(const std::string& text);

// prevResult of any supported version in the internal (1.x) form: `ips[].version` checked against the
// address and dropped, addresses, gateways and interface indexes validated (code 7 naming the key).
// `what` names the value in messages: "prevResult", or "ipam result" for a delegated IPAM plugin's.
nlohmann::json normalize_prev_result(const nlohmann::json& prev, const std::string& what = "prevResult");

// A result in the internal form, written for `version`: 0.3.x/0.4.0 get `ips[].version`, 1.x do not.
nlohmann::json convert_result(nlohmann::json result, const std::string& version);

// The ADD result: prevResult passed through in the config's version, with the host-side `interfaces` appended
// (those with a sandbox are left out: runtimes take each of them for the attachment's own interface).
struct CreatedInterface {
  std::string name, mac, sandbox;  // sandbox empty for the host side
};
// With `declared` (the template's `result:` as Attachments::add() gives it, MACs filled in), the result is
// prevResult with each declared key replaced (interfaces with `sandbox` = `netns` for the container scope, ips
// pointing at them by index) and the undeclared keys passed through; `created` is then not listed.
nlohmann::json make_result(const nlohmann::json& config, const std::vector<CreatedInterface>& created,
                           const nlohmann::json& declared = nullptr, const std::string& netns = "");

// prevResult (internal form) with the declared result's keys put in its place (see make_result).
nlohmann::json declared_result(nlohmann::json result, const nlohmann::json& declared, const std::string& netns);

}  // namespace topo::cni
