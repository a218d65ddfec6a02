// Entering network namespaces. The plugin is single-threaded, so setns() on the calling thread switches the
// namespace of everything it opens next (netlink sockets, /proc/sys/net, nftables contexts).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

namespace topo {

// Enters the namespace at `path` for the guard's lifetime; an empty path means "stay where we are".
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& path);
  // Enters the namespace of the open fd `target` and returns to that of `home`; both stay open (their owner
  // keeps them for many guards: see kernel/scope_namespaces.h). target < 0: stay where we are.
  NetnsGuard(int target, int home);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  int original_fd_{-1};
  bool owns_original_{true};
};

// Scope name → netns path. "" is the namespace the process runs in. A scope that is absent (or whose path no
// longer exists, e.g. CNI_NETNS after the pod is gone) is unavailable: nothing in it is observed or changed.
using ScopeMap = std::map<std::string, std::string>;

// What identifies a network namespace: the device and inode of its nsfs file (what `ip netns identify` and
// /proc/<pid>/ns/net compare). Two paths are the same namespace exactly when these are equal.
struct NetnsIdentity {
  dev_t dev{};
  ino_t ino{};
  bool operator==(const NetnsIdentity&) const = default;
};

// An open fd (O_CLOEXEC) of the network namespace at `path`, or -1 when there is none: the path is missing, or
// is not a network namespace (a regular file, e.g. a runtime's /var/run/netns/<name> after its bind mount was
// undone; another namespace type). Checked on the open file: fstatfs() says nsfs (NSFS_MAGIC) and
// ioctl(NS_GET_NSTYPE) says CLONE_NEWNET. The caller closes it.
int open_network_namespace(const std::string& path);

// The identity of the network namespace at `path` (open_network_namespace()); nullopt when there is none.
std::optional<NetnsIdentity> netns_identity(const std::string& path);

// "<dev>:<ino>" of the namespace at `path`, "" when there is none: the form the journal records.
std::string netns_identity_text(const std::string& path);

// The namespace this process runs in (/proc/self/ns/net; the plugin is single-threaded).
NetnsIdentity own_netns_identity();

// True for "" (the namespace we run in) and for a path that is a network namespace now (netns_identity()).
// A path that exists but is not one counts as gone: DEL and GC then clean the host side instead of failing
// with EINVAL from setns() forever.
bool netns_path_exists(const std::string& path);

// The plugin's two scopes: "host" is where the process runs; "container" is CNI_NETNS when it is set and
// still a network namespace (DEL may come after the pod's namespace is gone), and not the namespace we run
// in: the node's own namespace is never treated as a container's (DEL would restore the pod's journaled
// sysctls on the node's interfaces); that is said on stderr, and only the host side is handled.
// `expected` (a journaled netns_identity_text(), "" = unknown): the container scope is left out, and that is
// said on stderr, when the namespace at the path now is another one (a reused path, a wrong CNI_NETNS).
ScopeMap cni_scopes(const std::string& container_netns, const std::string& expected = "");

}  // namespace topo
