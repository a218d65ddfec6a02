// An exclusive flock on a private file of the state directory, held from construction to destruction: the
// journal's lock (allocations and intents) and the shared-object registry's lock. Waits like every topocni
// lock (lifecycle/flock_wait.h): BusyError after TOPOCNI_LOCK_TIMEOUT_MS.
#pragma once

#include <string>
#include <utility>

namespace topo {

class FileLock {
 public:
  // `what` names the lock in a timeout's message ("journal lock").
  FileLock(const std::string& path, const char* what);
  ~FileLock();
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;

 private:
  int fd_{-1};
};

}  // namespace topo
