// One owner per object. Marks in the kernel say "topocni's" (routes, rules, addresses and neighbours carry
// protocol 157, not an attachment), so two attachments whose templates render the same object (one address
// on a node bridge the admin made) would both take it as theirs: the second ADD finds it in place, plans
// nothing and journals it, and the first DEL of either removes it from under the other. The journals say
// which attachment an object is, and ADD refuses one that another attachment's journal names.
#pragma once

#include <optional>

#include "topo/journal.h"
#include "topo/model/state.h"

namespace topo {

// Throws ConflictError naming the object and the attachment that owns it, when an object of `desired` is in
// the kernel with our mark, is not in `previous` (this attachment's journal), and another attachment's
// journal names it (for an object in the container scope: another attachment in the same namespace `netns`,
// such as a pod's second interface). One nobody's journal names is a leftover of an attachment that is gone: adopted.
// Costs nothing unless such an object is seen (the journals are read only then).
void refuse_objects_of_others(const State& desired, const State& observed, const std::optional<JournalRecord>& previous,
                              const Journal& journal, const Attachment& self, const std::string& netns);

}  // namespace topo
