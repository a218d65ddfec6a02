// Node-wide shared objects: what a template's `shared:` section declares (a node bridge, its address, a
// node-wide NAT rule). The first attachment that declares one creates it; it stays while any attachment of
// any network uses it; the DEL of the last one removes it.
//
// Who uses what is kept in one file of the state directory, `shared.json`, changed only under its lock,
// `.shared.lock`. An ADD or DEL that has shared objects holds that lock from reading the file until its
// kernel changes are done. So a DEL that finds itself the last user removes the object before any ADD can
// count on it, and an ADD that registers as a user has created the object before any DEL can find it unused.
// Attachments without shared objects never take the lock.
//
// Crash safety: ADD journals the shared objects it uses (JournalRecord::shared) before it registers, and
// registers before it creates them; DEL removes them before it unregisters, and unregisters before it
// removes its journal. A kill at any point leaves at worst a registration whose journal still exists, which
// that attachment's next DEL (or GC) settles.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "topo/file_lock.h"
#include "topo/model/ownership.h"
#include "topo/model/state.h"

namespace topo {

// The owner written into a shared object's marks (link alias, nft comment): no attachment's, since an
// attachment's owner always names network/container/interface.
inline const OwnerMark kSharedOwner{"shared"};

struct SharedEntry {
  Object object;                   // as declared, with its marks
  std::vector<std::string> users;  // attachment ids (Attachment::id())
};

class SharedObjects {
 public:
  // `state_dir` as for Journal (already ensured by the caller's Journal).
  explicit SharedObjects(std::string state_dir);

  const std::string& path() const { return path_; }

  // The exclusive lock on the file (flock_exclusive: BusyError past the lock timeout).
  using Lock = FileLock;
  Lock lock() const;

  // Every entry; none when there is no file. A file that is not what store() writes is StateDirError (CNI
  // code 5) naming the file and the problem: guessing who uses an object could remove it under a pod.
  std::vector<SharedEntry> load() const;
  // Atomic replace; the file is removed when no entry is left.
  void store(const std::vector<SharedEntry>& entries) const;

 private:
  std::string dir_, path_;
};

// Registers `user` for every object of `declared`. Throws ConflictError, and changes nothing, when an object
// of `declared` has the key of an entry but another value: two templates declare one shared object
// differently. The message names the object, both values and the users.
void register_user(std::vector<SharedEntry>& entries, const State& declared, const std::string& user);

// Unregisters `user` from every object of `declared` and returns the objects of `declared` that no one uses
// any more (their entries are removed; the caller removes them from the kernel before it stores). An object
// without an entry counts as unused: its registration never happened (a kill before it) or was settled.
State release_user(std::vector<SharedEntry>& entries, const State& declared, const std::string& user);

// The objects of `a` whose key no object of `b` has.
State without_keys_of(const State& a, const State& b);

}  // namespace topo
