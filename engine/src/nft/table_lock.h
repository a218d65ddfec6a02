// Serialises changes to topocni's nftables table within one network namespace. nftables cannot be told to
// refuse deleting a non-empty table, so "delete the table when the last rule goes" is a read-then-write that
// concurrent plugin runs (parallel pod starts and stops) must not interleave. The lock is held only around one
// listing and one transaction.
#pragma once

namespace topo::nft {

class TableLock {
 public:
  // Locks /run/lock/topocni-nft-<netns inode>.lock for the namespace the thread is in now.
  TableLock();
  ~TableLock();
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  int fd_{-1};
};

}  // namespace topo::nft
