#include "topo/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "topo/error.h"

namespace topo {

NetnsGuard::NetnsGuard(const std::string& path) {
  if (path.empty()) return;
  original_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_fd_ < 0) throw SystemError(errno, "open /proc/thread-self/ns/net");
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(original_fd_);
    throw SystemError(err, "open network namespace " + path);
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  close(target);
  if (rc != 0) {
    close(original_fd_);
    throw SystemError(err, "enter network namespace " + path);
  }
}

NetnsGuard::~NetnsGuard() {
  if (original_fd_ < 0) return;
  // Failing to return would leave every later step in the wrong namespace: nothing sane can continue.
  if (setns(original_fd_, CLONE_NEWNET) != 0) {
    std::perror("topocni: cannot return to the original network namespace");
    std::abort();
  }
  close(original_fd_);
}

ScopeMap cni_scopes(const std::string& container_netns) {
  ScopeMap scopes{{"host", ""}};
  if (!container_netns.empty() && netns_path_exists(container_netns)) scopes["container"] = container_netns;
  return scopes;
}

bool netns_path_exists(const std::string& path) {
  if (path.empty()) return true;
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

}  // namespace topo
