#include "lifecycle/claims.h"

#include <algorithm>

#include <fmt/format.h>

#include "kinds/registry.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo {

namespace {

template <class K>
bool names_key(const std::vector<K>& objects, const K& o) {
  return std::any_of(objects.begin(), objects.end(), [&](const K& x) { return x.key() == o.key(); });
}

}  // namespace

void refuse_objects_of_others(const State& desired, const State& observed, const std::optional<JournalRecord>& previous,
                              const Journal& journal, const Attachment& self, const std::string& netns) {
  std::optional<std::vector<JournalRecord>> records;  // read on the first suspect only
  AllKinds::each([&]<class K>() {
    for (const K& d : desired.of<K>()) {
      auto seen = std::find_if(observed.of<K>().begin(), observed.of<K>().end(), [&](const K& o) { return o.key() == d.key(); });
      if (seen == observed.of<K>().end() || !KindOps<K>::owned(*seen)) continue;
      if (previous && names_key(previous->state.of<K>(), d)) continue;
      if (!records) records = journal.all();
      for (const JournalRecord& r : *records) {
        if (r.attachment.id() == self.id() || !names_key(r.state.of<K>(), d)) continue;
        // A pod's objects are in its own namespace: another pod's journal names the same key elsewhere.
        if (d.scope != kHostScope && r.netns != netns) continue;
        throw ConflictError(fmt::format(
            "{} is already there and belongs to attachment {}: two attachments cannot own one object (only one of "
            "them may render it)",
            describe(Object(d)), r.attachment.id()));
      }
    }
  });
}

}  // namespace topo
