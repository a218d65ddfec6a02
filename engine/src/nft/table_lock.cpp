#include "nft/table_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "topo/error.h"

namespace topo::nft {

TableLock::TableLock() {
  struct stat ns {};
  if (stat("/proc/thread-self/ns/net", &ns) != 0) throw SystemError(errno, "stat /proc/thread-self/ns/net");
  ::mkdir("/run/lock", 0755);  // present on Debian; created for minimal systems
  std::string path = fmt::format("/run/lock/topocni-nft-{}-{}.lock", static_cast<unsigned long>(ns.st_dev),
                                 static_cast<unsigned long>(ns.st_ino));
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw SystemError(errno, "open " + path);
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int err = errno;
      ::close(fd_);
      throw SystemError(err, "lock " + path);
    }
  }
}

TableLock::~TableLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace topo::nft
