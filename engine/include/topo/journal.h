// The journal: per attachment, the desired state topocni applied, written before it is applied (an intent
// log), so DEL can reverse it exactly — without prevResult, after the netns is gone, after a crash.
// Lives under /run by default (tmpfs): the kernel objects it describes do not outlive a reboot either.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/file_lock.h"
#include "topo/model/ownership.h"
#include "topo/model/state.h"

namespace topo {

// Who owns a journal, a lock and the ownership marks. A pod interface (network, container, ifname) may carry
// several topocni attachments: one per topocni entry of its conflist (the `macvlan` template, then
// `veth-to-host`), each named by its template, `plugin`. Journals written before format 4 and topologies have
// no `plugin`: their identity is the pod interface alone, as it always was (see Journal::resolve).
struct Attachment {
  std::string network, container_id, ifname;
  std::string plugin{};  // the conflist entry's template; "" for a legacy journal's attachment or a topology
  // "<network>/<containerId>/<ifname>": what templates read as `cni.attachment` (veth names hash it, so they do
  // not depend on which entry renders them) and what GC's valid attachments name.
  std::string interface_id() const { return network + "/" + container_id + "/" + ifname; }
  // The identity: the journal, the lock, the marks, the shared registry's users. With a plugin,
  // "<network>/<containerId>/<ifname>/<plugin>" (a template name holds no '/').
  std::string id() const { return plugin.empty() ? interface_id() : interface_id() + "/" + plugin; }
  // The same pod interface, as journals before format 4 named it.
  Attachment interface_only() const { return {network, container_id, ifname}; }
};

// The attachment as written into ownership marks (link alias, NAT rule comment; engine/src/lifecycle/ownership.cpp).
// It must fit nft's 128-byte comment limit (and IFALIASZ): container ids may be 255 characters long, so long
// ids are hashed. The plugin is part of it: two templates chained for one pod interface never take each
// other's objects for their own.
OwnerMark owner_mark(const Attachment& a);

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
  // The identity a request for `a` (which names its plugin) acts on: `a` itself, unless `a` has no journal and
  // the pod interface has one written before format 4 (no plugin in its name) by the same template, which
  // then stays that attachment's journal, with its marks, until its DEL: an upgrade changes nothing a running
  // pod was given. A damaged old journal whose template cannot be read counts as the request's (before format
  // 4 a pod interface had one topocni attachment). Costs one stat() when `a` has a journal, two when neither
  // exists.
  Attachment resolve(const Attachment& a) const;
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
  // The readable journals of the other entries of `a`'s pod interface (files "<cid>-<ifname>@*.json" in its
  // network's directory: one readdir, never every journal of the node); damaged ones are skipped.
  std::vector<JournalRecord> siblings(const Attachment& a) const;

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
  // "<container id>-<ifname>" as the pod interface's journal file names start (a long id shortened), after
  // checking that every name is safe as a path component.
  static std::string interface_stem(const Attachment& a);
  void ensure_dir() const;
  std::string dir_;
};

}  // namespace topo
