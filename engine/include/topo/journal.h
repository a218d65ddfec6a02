// The journal: per attachment, the desired state topocni applied, written before it is applied (an intent
// log), so DEL can reverse it exactly — without prevResult, after the netns is gone, after a crash.
// Lives under /run by default (tmpfs): the kernel objects it describes do not outlive a reboot either.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/file_lock.h"
#include "topo/model/state.h"

namespace topo {

struct Attachment {
  std::string network, container_id, ifname;
  std::string id() const { return network + "/" + container_id + "/" + ifname; }
};

struct JournalRecord {
  Attachment attachment;
  std::string template_name;
  std::string netns;              // CNI_NETNS at ADD
  nlohmann::json allocations;     // name -> value (e.g. the policy table)
  nlohmann::json prev_result;     // the prevResult ADD rendered from (topoctl plan's last fallback)
  State state;                    // every object of ours, with ownership marks
  State taken_over;               // foreign objects our takeovers replaced, put back on DEL
  State shared{};                 // the node-wide objects it uses (topo/shared_objects.h), with their marks
  // "<st_dev>:<st_ino>" of CNI_NETNS at ADD (netns_identity_text()); "" in journals from before it was
  // recorded. DEL touches the container side only in the namespace with this identity.
  std::string netns_identity{};
};

class Journal {
 public:
  static constexpr const char* kDefaultDir = "/run/topocni";

  // `dir` empty: $TOPOCNI_STATE_DIR, else kDefaultDir.
  explicit Journal(std::string dir = "");

  const std::string& dir() const { return dir_; }
  // nullopt when there is no journal. Read strictly (topo/journal_format.h): throws JournalDamagedError (with
  // what could be read) for a journal that is not what topocni writes, JournalFormatError for one of a newer
  // format.
  std::optional<JournalRecord> load(const Attachment& a) const;
  bool exists(const Attachment& a) const;  // one stat(): no parsing
  // Atomic: write a temp file (mode 0600), rename it over the old one (no fsync: see journal.cpp).
  void store(const JournalRecord& r) const;
  void remove(const Attachment& a) const;

  // A damaged journal found by list(): its file, what could be read, and what could not.
  struct Damaged {
    std::string file;
    JournalRecord record;      // the readable part; the attachment only when `attachment_known`
    bool attachment_known{};   // its names were read, and lead to this very file
    std::vector<std::string> problems;
  };
  struct Listing {
    std::vector<JournalRecord> records;
    std::vector<Damaged> damaged;
  };
  // Every journal in the state dir. Throws JournalFormatError when one has a newer format: a caller that acts
  // on the node's whole state (GC, DEL by marks) cannot know what that journal claims.
  Listing list() const;
  // list()'s sound records; each damaged journal is said on stderr and skipped.
  std::vector<JournalRecord> all() const;

  // A damaged journal is never deleted as if it had been honoured: it is renamed to "<file>.damaged" (mode
  // 0600, in its network's directory, replacing an older one of that name) for an operator to look at (topoctl
  // doctor lists them), so the next ADD of the attachment is not blocked. Returns the new path.
  std::string set_aside(const std::string& file) const;
  std::string path_of_attachment(const Attachment& a) const { return path_of(a); }

  // An exclusive flock on the journal directory, for allocation. Hold it briefly.
  using Lock = FileLock;
  Lock lock() const;

  // The file that locks one attachment for a whole ADD, DEL or CHECK (lifecycle/attachment_lock.h): the
  // journal's path with ".lock" for ".json". Its network directory is created when missing.
  std::string lock_path_of(const Attachment& a) const;

 private:
  std::string path_of(const Attachment& a) const;
  void ensure_dir() const;
  std::string dir_;
};

}  // namespace topo
