#include "topo/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

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

NetnsGuard::NetnsGuard(int target, int home) : owns_original_(false) {
  if (target < 0) return;
  if (setns(target, CLONE_NEWNET) != 0) throw SystemError(errno, "enter a network namespace");
  original_fd_ = home;
}

NetnsGuard::~NetnsGuard() {
  if (original_fd_ < 0) return;
  // Failing to return would leave every later step in the wrong namespace: nothing sane can continue.
  if (setns(original_fd_, CLONE_NEWNET) != 0) {
    std::perror("topocni: cannot return to the original network namespace");
    std::abort();
  }
  if (owns_original_) close(original_fd_);
}

int open_network_namespace(const std::string& path) {
  // O_NONBLOCK: a FIFO at the path must not hang the plugin.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  struct statfs fs {};
  if (fstatfs(fd, &fs) == 0 && fs.f_type == static_cast<decltype(fs.f_type)>(NSFS_MAGIC) &&
      ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET)
    return fd;
  close(fd);
  return -1;
}

std::optional<NetnsIdentity> netns_identity(const std::string& path) {
  int fd = open_network_namespace(path);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  bool known = fstat(fd, &st) == 0;
  close(fd);
  if (!known) return std::nullopt;
  return NetnsIdentity{st.st_dev, st.st_ino};
}

NetnsIdentity own_netns_identity() {
  auto own = netns_identity("/proc/self/ns/net");
  if (!own) throw SystemError(errno ? errno : ENOENT, "identify /proc/self/ns/net");
  return *own;
}

std::string netns_identity_text(const std::string& path) {
  auto id = netns_identity(path);
  return id ? fmt::format("{}:{}", static_cast<unsigned long>(id->dev), static_cast<unsigned long>(id->ino)) : "";
}

ScopeMap cni_scopes(const std::string& container_netns, const std::string& expected) {
  ScopeMap scopes{{"host", ""}};
  if (container_netns.empty()) return scopes;
  auto id = netns_identity(container_netns);
  if (!id) return scopes;
  if (!expected.empty()) {
    std::string now = fmt::format("{}:{}", static_cast<unsigned long>(id->dev), static_cast<unsigned long>(id->ino));
    if (now != expected) {
      fmt::print(stderr,
                 "topocni: {} is network namespace {}, not {} that ADD configured: only the host side is "
                 "handled\n",
                 container_netns, now, expected);
      return scopes;
    }
  }
  if (*id == own_netns_identity()) {
    static bool said = false;  // cni_scopes() runs a few times per command
    if (!said) {
      fmt::print(stderr,
                 "topocni: {} is this node's own network namespace, not a container's: only the host side is "
                 "handled\n",
                 container_netns);
    }
    said = true;
    return scopes;
  }
  scopes["container"] = container_netns;
  return scopes;
}

bool netns_path_exists(const std::string& path) { return path.empty() || netns_identity(path).has_value(); }

}  // namespace topo
