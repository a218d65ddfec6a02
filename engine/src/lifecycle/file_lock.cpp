#include "topo/file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "lifecycle/flock_wait.h"
#include "topo/state_dir.h"

namespace topo {

FileLock::FileLock(const std::string& path, const char* what) {
  fd_ = open_private_file(path, O_RDWR | O_CREAT);
  if (fd_ < 0) throw_open_error(errno, "open lock", path);
  try {
    flock_exclusive(fd_, what, path);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace topo
