// Serialises changes to topocni's nftables table within one network namespace. nftables cannot be told to
// refuse deleting a non-empty table, so "delete the table when the last rule goes" is a read-then-write that
// concurrent plugin runs (parallel pod starts and stops) must not interleave. The lock is held only around one
// listing and one transaction.
//
// The lock is a file, <state dir>/.locks/nft-<netns device>-<netns inode>.lock, flocked, and removed again by
// its holder on release, so no file is left per namespace (one per pod that ever ran, before). A process that
// locked the file just as the holder removed it finds its file gone from the path and locks anew. A file, not
// an abstract unix socket address: any process in the namespace (a hostNetwork pod, in the node's) could bind
// that address first and keep every topocni run waiting. Not in the world-writable /run/lock either: any
// local user could flock the file there (every ADD and DEL then timed out with code 11) or plant a symlink
// root followed; the state dir is root's alone (topo/state_dir.h).
#pragma once

#include <string>

namespace topo::nft {

class TableLock {
 public:
  // Takes the lock of the namespace the thread is in now, waiting while another process holds it (up to
  // TOPOCNI_LOCK_TIMEOUT_MS, 30 s by default; then BusyError, CNI code 11).
  TableLock();
  ~TableLock();
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  std::string path_;
  int fd_{-1};
};

}  // namespace topo::nft
