// An open network namespace, for IFLA_NET_NS_FD (a link created in, or moved to, another namespace).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "topo/error.h"

namespace topo {

class NetnsFd {
 public:
  // "" is the namespace the process runs in.
  explicit NetnsFd(const std::string& path) {
    const std::string& p = path.empty() ? std::string("/proc/self/ns/net") : path;
    fd_ = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw SystemError(errno, "open network namespace " + p);
  }
  ~NetnsFd() { ::close(fd_); }
  NetnsFd(const NetnsFd&) = delete;
  NetnsFd& operator=(const NetnsFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace topo
