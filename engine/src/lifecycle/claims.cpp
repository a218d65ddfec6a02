#include "lifecycle/claims.h"

#include <algorithm>

#include <fmt/format.h>

#include "kinds/absent.h"
#include "kinds/registry.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo {

namespace {

template <class K>
bool names_key(const std::vector<K>& objects, const K& o) {
  return std::any_of(objects.begin(), objects.end(), [&](const K& x) { return x.key() == o.key(); });
}

// An object the attachment changes without owning it (kinds that have such objects say which: an existing
// link whose mtu, mac... it sets). It carries no mark, so only the journals tell who changed it.
template <class K>
bool claims(const K& o) {
  if constexpr (requires { KindOps<K>::claims(o); })
    return KindOps<K>::claims(o);
  else
    return false;
}

}  // namespace

State refuse_objects_of_others(const State& desired, const State& observed, const std::optional<JournalRecord>& previous,
                               const Journal& journal, const Attachment& self, const std::string& netns) {
  State from_siblings;
  std::optional<std::vector<JournalRecord>> records;  // read on the first suspect only
  AllKinds::each([&]<class K>() {
    for (const K& d : desired.of<K>()) {
      auto seen = std::find_if(observed.of<K>().begin(), observed.of<K>().end(), [&](const K& o) { return o.key() == d.key(); });
      bool claimed = claims(d);
      if (seen == observed.of<K>().end() || !(KindOps<K>::owned(*seen) || claimed)) continue;
      if (previous && names_key(previous->state.of<K>(), d)) continue;
      if (!records) records = journal.all();
      for (const JournalRecord& r : *records) {
        if (r.attachment.id() == self.id()) continue;
        // A claimed object conflicts only with another claim: a mere reference (an existing link that must
        // be there) changes nothing.
        if (!std::any_of(r.state.of<K>().begin(), r.state.of<K>().end(),
                         [&](const K& x) { return x.key() == d.key() && (!claimed || claims(x)); }))
          continue;
        // A pod's objects are in its own namespace: another pod's journal names the same key elsewhere.
        if (d.scope != kHostScope && r.netns != netns) continue;
        if constexpr (requires { d.takeover; }) {
          if (d.takeover && r.attachment.interface_id() == self.interface_id()) {
            add_missing(from_siblings.of<K>(), {*seen});
            continue;
          }
        }
        throw ConflictError(fmt::format(
            "{} is already there and belongs to attachment {}: two attachments cannot own one object (only one of "
            "them may render it)",
            describe(Object(d)), r.attachment.id()));
      }
    }
  });
  return from_siblings;
}

State lent_to_siblings(const State& mine, const State& observed, const Journal& journal, const Attachment& self,
                       bool missing_too) {
  State lent;
  std::optional<std::vector<JournalRecord>> siblings;  // read on the first suspect only
  AllKinds::each([&]<class K>() {
    if constexpr (AbsentCapable<K>) {
      for (const K& m : mine.of<K>()) {
        if (m.absent) continue;
        auto seen = std::find_if(observed.of<K>().begin(), observed.of<K>().end(), [&](const K& o) { return o.key() == m.key(); });
        if (seen == observed.of<K>().end() ? !missing_too : (!KindOps<K>::owned(*seen) || *seen == m)) continue;
        if (!siblings) siblings = journal.siblings(self);
        for (const JournalRecord& r : *siblings) {
          if (names_key(r.taken_over.of<K>(), m) && names_key(r.state.of<K>(), m)) {
            lent.of<K>().push_back(m);
            break;
          }
        }
      }
    }
  });
  return lent;
}

}  // namespace topo
