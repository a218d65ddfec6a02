// One attachment's lock, held for a whole ADD, DEL or CHECK. The spec forbids a runtime to run two commands
// of one attachment at once, but runtimes retry after their own timeouts: a DEL racing the ADD it gave up
// on, or two ADDs of one id, must not interleave (a DEL that removed the journal and the table reservation
// while the ADD went on creating objects left them to nobody; a second ADD saw the first one's veth as
// someone else's). Attachments of other ids never wait for each other.
//
// The lock file lives next to the journal and goes with it: DEL removes it while holding it, and a waiter
// that then gets the lock of the removed file sees it is no longer the one at the path and locks anew.
#pragma once

#include <string>

#include "topo/journal.h"

namespace topo {

class AttachmentLock {
 public:
  // Waits like every topocni lock (flock_wait.h): BusyError after TOPOCNI_LOCK_TIMEOUT_MS.
  AttachmentLock(const Journal& journal, const Attachment& a);
  ~AttachmentLock();
  AttachmentLock(const AttachmentLock&) = delete;
  AttachmentLock& operator=(const AttachmentLock&) = delete;

  // The attachment is gone (its journal removed): remove the lock file on release.
  void remove_on_release() { remove_ = true; }

 private:
  std::string path_, dir_;
  int fd_{-1};
  bool remove_{false};
};

}  // namespace topo
