#include "kernel/scope_namespaces.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

#include "topo/error.h"

namespace topo {

namespace {

// An fd of the network namespace at `path`, or -1 when there is none (missing, not nsfs, another type):
// netns_identity()'s test, on the fd that is then kept.
int open_network_namespace(const std::string& path) {
  // O_NONBLOCK: a FIFO at the path must not hang the plugin.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  struct statfs fs {};
  if (fstatfs(fd, &fs) == 0 && fs.f_type == static_cast<decltype(fs.f_type)>(NSFS_MAGIC) &&
      ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET)
    return fd;
  ::close(fd);
  return -1;
}

}  // namespace

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
