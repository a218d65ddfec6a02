// Entering network namespaces. The plugin is single-threaded, so setns() on the calling thread switches the
// namespace of everything it opens next (netlink sockets, /proc/sys/net, nftables contexts).
#pragma once

#include <map>
#include <string>

namespace topo {

// Enters the namespace at `path` for the guard's lifetime; an empty path means "stay where we are".
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& path);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  int original_fd_{-1};
};

// Scope name → netns path. "" is the namespace the process runs in. A scope that is absent (or whose path no
// longer exists, e.g. CNI_NETNS after the pod is gone) is unavailable: nothing in it is observed or changed.
using ScopeMap = std::map<std::string, std::string>;

bool netns_path_exists(const std::string& path);

// The plugin's two scopes: "host" is where the process runs; "container" is CNI_NETNS when it is set and
// still exists (DEL may come after the pod's namespace is gone).
ScopeMap cni_scopes(const std::string& container_netns);

}  // namespace topo
