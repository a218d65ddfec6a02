// `topoctl doctor`: node diagnostics for the failures underlay users hit most. Each check family lives in its
// own file and appends findings; it reads the node (the namespace topoctl runs in, or --netns) and changes
// nothing. docs/topoctl.md#doctor lists the checks and why each matters.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace topo::cli::doctor {

enum class Status { Ok, Problem, Error };

struct Finding {
  std::string check;    // stable id, e.g. "ipv4-forwarding"
  Status status{Status::Ok};
  std::string subject;  // what it is about: an interface, a file, a journal ("" for the node)
  std::string checked;  // what was read
  std::string found;    // what it says, and why it matters
  std::string fix;      // a concrete command or edit; "" when ok
};

struct Options {
  std::vector<std::string> interfaces;  // --interface: the underlay, instead of the conflists' hostInterface
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::string cni_bin_dir = "/opt/cni/bin:/usr/lib/cni";
  std::string state_dir;  // "" = $TOPOCNI_STATE_DIR, else /run/topocni
};

// One plugin entry of a CNI config file that topocni runs (its `template`, else its `type`, names a template).
struct Entry {
  std::string file;
  size_t index{0};  // position in `plugins` (0 for a single-plugin .conf)
  bool single{false};  // a .conf holding one plugin, not a conflist
  nlohmann::json config;
  std::string type, template_name;
  std::string where() const;  // "FILE plugins[i]" or "FILE"
};

// A config file in the conf dir, as the runtime would see it.
struct ConfigFile {
  std::string path;
  std::optional<std::string> error;  // unreadable or not a network config
  nlohmann::json plugins = nlohmann::json::array();  // the plugin list (one element for a .conf)
  bool single{false};
};

// What every check may use, gathered once.
struct Node {
  Options options;
  std::vector<ConfigFile> configs;
  std::vector<Entry> entries;  // topocni's entries over all configs, in file order
  // Interfaces the underlay checks look at: --interface, else every entry's string `hostInterface`; with the
  // reason each is looked at.
  std::vector<std::pair<std::string, std::string>> underlay;

  static Node gather(const Options& options);
};

// /proc/sys/<name with '.' as '/'> of the current namespace; nullopt when absent. `ifname` may contain dots:
// the name is built from its parts.
std::optional<std::string> read_sysctl(const std::string& dir, const std::string& ifname, const std::string& key);
std::optional<std::string> read_sysctl(const std::string& dotted);

// The check families, one file each: sysctls.cpp (forwarding, rp_filter), netfilter.cpp (INVALID drops,
// kube-proxy), cni_files.cpp (bin dir, chain order), leftovers.cpp (journals against marks),
// damaged_journals.cpp (journals not as topocni writes them, and those set aside).
void check_sysctls(const Node& node, std::vector<Finding>& out);
void check_netfilter(const Node& node, std::vector<Finding>& out);
void check_cni_files(const Node& node, std::vector<Finding>& out);
void check_leftovers(const Node& node, std::vector<Finding>& out);
void check_damaged_journals(const Node& node, std::vector<Finding>& out);
void check_shared_registry(const Node& node, std::vector<Finding>& out);

std::string status_name(Status s);
nlohmann::json to_json(const Finding& f);

}  // namespace topo::cli::doctor
