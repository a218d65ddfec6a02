#include "lifecycle/attachment_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "lifecycle/flock_wait.h"
#include "topo/error.h"

namespace topo {

AttachmentLock::AttachmentLock(const Journal& journal, const Attachment& a)
    : path_(journal.lock_path_of(a)), dir_(std::filesystem::path(path_).parent_path()) {
  for (;;) {
    // O_NOFOLLOW: the state directory is root's, but a link planted there must never be followed.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0 && errno == ENOENT) {
      // The last DEL of the network removed its directory between our mkdir and this open: make it again.
      if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) throw SystemError(errno, "create " + dir_);
      continue;
    }
    if (fd_ < 0) throw SystemError(errno, "open attachment lock " + path_);
    try {
      flock_exclusive(fd_, "attachment lock", path_);
    } catch (...) {
      ::close(fd_);
      throw;
    }
    // The holder before us may have removed the file (its DEL finished): then we hold a lock nobody else
    // will look at, and must lock the file now at the path instead.
    struct stat held{}, at_path{};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &at_path) == 0 && held.st_ino == at_path.st_ino &&
        held.st_dev == at_path.st_dev)
      return;
    ::close(fd_);
  }
}

AttachmentLock::~AttachmentLock() {
  if (remove_) ::unlink(path_.c_str());  // before the release, so no waiter locks a file that is going away
  ::close(fd_);
  // The network's directory goes with its last attachment; this fails harmlessly while anything is in it.
  if (remove_) ::rmdir(dir_.c_str());
}

}  // namespace topo
