// The network namespaces of a Kernel's scopes, each opened and checked once, on first use, and held until the
// Kernel goes. Entering a scope is then two setns() calls, where it was an open, a check (fstatfs, ioctl,
// fstat) and a close of the path per step: an ADD of the flagship opened the pod's path 16 times. Holding the
// namespace also means every step of a command works in the namespace that was checked, even if its path is
// unmounted or reused meanwhile.
#pragma once

#include <map>
#include <string>

#include "topo/netns.h"

namespace topo {

class ScopeNamespaces {
 public:
  // Opens where the process is now as the namespace every guard returns to (and the fd of "" scopes): a
  // Kernel is made outside any scope's namespace.
  explicit ScopeNamespaces(const ScopeMap& scopes);
  ~ScopeNamespaces();
  ScopeNamespaces(const ScopeNamespaces&) = delete;
  ScopeNamespaces& operator=(const ScopeNamespaces&) = delete;

  // The scope is mapped, and its path was a network namespace when first asked (a pod's namespace may be
  // gone before its DEL: then the answer stays no for the command).
  bool present(const std::string& scope);
  // An fd of the scope's namespace, for IFLA_NET_NS_FD; our own namespace's for a scope mapped to "".
  // Throws SystemError(ENOENT) naming the scope when it is not present.
  int fd(const std::string& scope);
  // Runs the guard's lifetime inside the scope's namespace (nothing to enter for a scope mapped to "").
  NetnsGuard enter(const std::string& scope);

 private:
  int home();  // /proc/thread-self/ns/net at construction; throws when it could not be opened
  const ScopeMap& scopes_;
  std::map<std::string, int> fds_;  // scope -> its namespace's fd; -1: not present; "" scopes are not kept
  int home_;
  int home_errno_;
};

}  // namespace topo
