#include "kernel/fd_read.h"

#include <unistd.h>

#include <cerrno>

#include "topo/error.h"

namespace topo {

std::string read_to_end(int fd, const std::string& what) {
  std::string text;
  char buf[16384];  // a journal in one or two reads
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(errno, "read " + what);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace topo
