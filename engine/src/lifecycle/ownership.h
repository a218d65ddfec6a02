// Stamping ownership marks on a desired state, and the owner an attachment writes into them. The marks
// themselves (protocol 157, the "topocni:" prefix) are defined once in topo/model/ownership.h; which mark a
// kind carries is its unit's KindOps<K>::stamp / owned.
#pragma once

#include "topo/journal.h"
#include "topo/model/ownership.h"
#include "topo/model/state.h"

namespace topo {

// owner_mark(const Attachment&), the owner an attachment writes into its marks, is declared in topo/journal.h
// (topoctl doctor matches marks to journals with it).

// Every object of `s` gets the marks of `owner`.
void stamp(State& s, const OwnerMark& owner);

}  // namespace topo
