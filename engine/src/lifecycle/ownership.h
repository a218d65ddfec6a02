// Stamping ownership marks on a desired state, and the owner an attachment writes into them. The marks
// themselves (protocol 157, the "topocni:" prefix) are defined once in topo/model/ownership.h; which mark a
// kind carries is its unit's KindOps<K>::stamp / owned.
#pragma once

#include "topo/journal.h"
#include "topo/model/ownership.h"
#include "topo/model/state.h"

namespace topo {

// The attachment as written into ownership marks (link alias, NAT rule comment). It must fit nft's 128-byte
// comment limit (and IFALIASZ): container ids may be 255 characters long, so long ids are hashed.
OwnerMark owner_mark(const Attachment& a);

// Every object of `s` gets the marks of `owner`.
void stamp(State& s, const OwnerMark& owner);

}  // namespace topo
