#include "kernel/nft/table_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "lifecycle/flock_wait.h"
#include "topo/error.h"
#include "topo/state_dir.h"

namespace topo::nft {

namespace {

// True when `fd` is still the file at `path`: the holder before us may have removed it after we opened it.
bool still_at_path(int fd, const std::string& path) {
  struct stat by_fd {}, by_path {};
  return ::fstat(fd, &by_fd) == 0 && ::lstat(path.c_str(), &by_path) == 0 && by_fd.st_dev == by_path.st_dev &&
         by_fd.st_ino == by_path.st_ino;
}

}  // namespace

TableLock::TableLock() {
  struct stat ns {};
  if (::stat("/proc/thread-self/ns/net", &ns) != 0) throw SystemError(errno, "stat /proc/thread-self/ns/net");
  const std::string dir = state_dir_from_environment();
  ensure_private_dir(dir);
  ensure_private_subdir(dir, ".locks");
  path_ = fmt::format("{}/.locks/nft-{}-{}.lock", dir, static_cast<unsigned long>(ns.st_dev),
                      static_cast<unsigned long>(ns.st_ino));
  for (;;) {
    fd_ = open_private_file(path_, O_RDWR | O_CREAT);
    if (fd_ < 0) throw_open_error(errno, "open", path_);
    try {
      flock_exclusive(fd_, "nftables table lock", path_);
    } catch (...) {
      ::close(fd_);
      throw;
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
