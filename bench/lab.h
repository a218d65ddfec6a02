// The benchmark's throwaway world: nodes and pods are network namespaces this run creates (named
// "tcb<pid>-...") and removes, also when it fails or is interrupted. A node has an "eth0" (one end of a veth
// pair whose other end stays in the node, so nothing leaves the machine) with 10.20.0.2/16; pods get their
// first interface from Debian's macvlan + host-local, exactly as a runtime would chain them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"

namespace bench {

// Creates and removes namespaces, remembering every one it made so that remove_all() (called at exit and from
// SIGINT/SIGTERM) leaves nothing behind.
class Namespaces {
 public:
  static std::string create(const std::string& suffix);  // the full name; `ip netns add`
  static void remove(const std::string& name);
  static void remove_all();
  static std::string path(const std::string& name) { return "/run/netns/" + name; }
  static void install_cleanup();  // atexit + signal handlers
};

// Enters a namespace for the guard's lifetime: plugins spawned meanwhile run in it, as a runtime runs them in
// the node's namespace.
class Inside {
 public:
  explicit Inside(const std::string& netns_name);
  ~Inside();
  Inside(const Inside&) = delete;
  Inside& operator=(const Inside&) = delete;

 private:
  int original_{-1};
};

// A node's namespace: `eth0` with 10.20.0.2/16 and a default route via 10.20.0.1 (the underlay, and the
// macvlan master), one end of a veth pair whose other end stays inside it. Returns the namespace's name.
std::string create_node_namespace(const std::string& suffix);

struct Config {
  std::string topocni;           // the plugin under test
  std::string cni_dir = "/usr/lib/cni";  // Debian's reference plugins (ptp, macvlan, host-local)
  std::string work;              // temp dir of this run (ipam data dirs, journals)
};

// What a plugin call needs to know about one pod.
struct Pod {
  std::string netns;  // namespace name
  std::string id;     // CNI_CONTAINERID
  nlohmann::json prev;  // the result of the plugin before ours (macvlan), for the chained call
};

class Node {
 public:
  enum class Kind { Topocni, Ptp };
  Node(const Config& cfg, const std::string& name, Kind kind);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& netns() const { return netns_; }
  const std::string& name() const { return name_; }

  // Creates the pod's namespace and, for a topocni node, its macvlan interface (untimed).
  Pod make_pod(int index);
  // The timed call: topocni (chained after macvlan) or ptp (first plugin), for ADD/DEL/CHECK.
  CallResult call(const Pod& pod, const std::string& command);
  // Removes the macvlan (untimed) and the pod's namespace.
  void drop_pod(const Pod& pod);

 private:
  CallResult raw(const std::string& plugin, const std::string& command, const Pod& pod,
                 const nlohmann::json& config, const std::vector<std::string>& extra_env);

  const Config& cfg_;
  std::string name_, netns_, dir_;
  Kind kind_;
  nlohmann::json macvlan_conf_, main_conf_;
};

}  // namespace bench
