#include "nft/table_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "topo/error.h"

namespace topo::nft {

namespace {

long timeout_ms() {
  const char* env = std::getenv("TOPOCNI_LOCK_TIMEOUT_MS");
  return env && *env ? std::max(0L, std::atol(env)) : 30'000L;
}

long now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1'000'000L;
}

// True when `fd` is still the file at `path`: the holder before us may have removed it after we opened it.
bool still_at_path(int fd, const std::string& path) {
  struct stat by_fd {}, by_path {};
  return ::fstat(fd, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 && by_fd.st_dev == by_path.st_dev &&
         by_fd.st_ino == by_path.st_ino;
}

}  // namespace

TableLock::TableLock() {
  struct stat ns {};
  if (::stat("/proc/thread-self/ns/net", &ns) != 0) throw SystemError(errno, "stat /proc/thread-self/ns/net");
  ::mkdir("/run/lock", 0755);  // present on Debian; created for minimal systems
  path_ = fmt::format("/run/lock/topocni-nft-{}-{}.lock", static_cast<unsigned long>(ns.st_dev),
                      static_cast<unsigned long>(ns.st_ino));
  const long deadline = now_ms() + timeout_ms();
  // Holders keep it for a listing and a commit (about a millisecond): poll from 50 µs, doubling to 2 ms.
  useconds_t pause = 50;
  for (;;) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw SystemError(errno, "open " + path_);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        int err = errno;
        ::close(fd_);
        throw SystemError(err, "lock " + path_);
      }
      if (now_ms() > deadline) {
        ::close(fd_);
        throw BusyError(fmt::format("the nftables table lock {} stayed busy for {} ms", path_, timeout_ms()));
      }
      ::usleep(pause);
      pause = std::min<useconds_t>(pause * 2, 2000);
    }
    if (still_at_path(fd_, path_)) return;
    ::close(fd_);  // locked a file its holder had already removed: lock the one at the path now
  }
}

TableLock::~TableLock() {
  if (fd_ < 0) return;
  // Removed while still locked: whoever opened this file meanwhile sees it gone (still_at_path) and retries.
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace topo::nft
