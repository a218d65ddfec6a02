// One owner per object. Marks in the kernel say "topocni's" (routes, rules, addresses and neighbours carry
// protocol 157, not an attachment), so two attachments whose templates render the same object (one address
// on a node bridge the admin made) would both take it as theirs: the second ADD finds it in place, plans
// nothing and journals it, and the first DEL of either removes it from under the other. The journals say
// which attachment an object is, and ADD refuses one that another attachment's journal names.
//
// One exception, between the entries of one pod interface's chain (topo/journal.h: same network, container
// and ifname, another plugin): a route with `takeover` replaces an earlier entry's route of the same key as it
// replaces a foreign one (veth-to-host's default route over the macvlan template's). The replaced route is
// journaled in the later entry's `takenOver` and put back, with its protocol, by that entry's DEL; until then
// it is "lent": the earlier entry neither plans it back (ADD, CHECK, plan) nor deletes the later entry's
// route (a DEL out of order).
#pragma once

#include <optional>

#include "topo/journal.h"
#include "topo/model/state.h"

namespace topo {

// Throws ConflictError naming the object and the attachment that owns it, when an object of `desired` is in
// the kernel with our mark, is not in `previous` (this attachment's journal), and another attachment's
// journal names it (for an object in the container scope: another attachment in the same namespace `netns`,
// such as a pod's second interface). One nobody's journal names is a leftover of an attachment that is gone: adopted.
// Returns the observed objects an earlier entry of the chain holds that a takeover of `desired` replaces
// (see above): the caller treats them as foreign. Costs nothing unless such an object is seen (the journals
// are read only then).
State refuse_objects_of_others(const State& desired, const State& observed, const std::optional<JournalRecord>& previous,
                               const Journal& journal, const Attachment& self, const std::string& netns);

// The objects of `mine` (this attachment's) whose key a later entry of the chain holds by a takeover: named in
// that entry's journal and in its `takenOver`. Suspects are those in the kernel with our mark but another
// value and, with `missing_too`, those not observed at all (observation is filtered by device: the later
// entry's route leaves by another one). Costs nothing unless there is a suspect, then one readdir of the
// network's journals (Journal::siblings).
State lent_to_siblings(const State& mine, const State& observed, const Journal& journal, const Attachment& self,
                       bool missing_too);

}  // namespace topo
