#include "kernel/scope_namespaces.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "topo/error.h"

namespace topo {

ScopeNamespaces::ScopeNamespaces(const ScopeMap& scopes)
    : scopes_(scopes), home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)), home_errno_(errno) {}

ScopeNamespaces::~ScopeNamespaces() {
  for (const auto& [scope, fd] : fds_)
    if (fd >= 0) ::close(fd);
  if (home_ >= 0) ::close(home_);
}

bool ScopeNamespaces::present(const std::string& scope) {
  auto mapped = scopes_.find(scope);
  if (mapped == scopes_.end()) return false;
  if (mapped->second.empty()) return true;
  auto [it, fresh] = fds_.try_emplace(scope, -1);
  if (fresh) it->second = open_network_namespace(mapped->second);
  return it->second >= 0;
}

int ScopeNamespaces::fd(const std::string& scope) {
  if (!present(scope)) {
    auto mapped = scopes_.find(scope);
    if (mapped == scopes_.end())
      throw SystemError(ENOENT, "scope \"" + scope + "\" is not mapped to a network namespace");
    throw SystemError(ENOENT, "network namespace of scope \"" + scope + "\" (" + mapped->second + ")");
  }
  if (scopes_.at(scope).empty()) return home();
  return fds_.at(scope);
}

NetnsGuard ScopeNamespaces::enter(const std::string& scope) {
  int target = fd(scope);
  if (scopes_.at(scope).empty()) return NetnsGuard(-1, -1);
  return NetnsGuard(target, home());
}

int ScopeNamespaces::home() {
  if (home_ < 0) throw SystemError(home_errno_, "open /proc/thread-self/ns/net");
  return home_;
}

}  // namespace topo
