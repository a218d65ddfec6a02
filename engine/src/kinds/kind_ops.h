// What a kind's unit provides to the generic parts of the engine, behind the public value type (topo/model/).
//
// Each kind K specialises KindOps<K> in kinds/<kind>/<kind>_ops.h and defines it in that folder:
//   - template:  schema() (the keys of one item of the `<kSection>:` list) and build() (one rendered item to
//                model values, with validation); template_form() (the item as topoctl render writes it back);
//   - ownership: stamp() puts the attachment's mark on a desired object (see lifecycle/ownership.h);
//                owned() says whether an observed object carries a mark of ours;
//   - diff:      may_replace() (may the desired value overwrite the observed one with the same key?);
//   - optional:  take_origins(Kernel&, desired, journaled) (what DEL puts back on objects someone else made
//                that the attachment changes, read before any change: links) and claims(desired) (an object
//                changed without being owned, which two attachments may not both change: links). The
//                lifecycle calls them for the kinds that define them;
//   - kernel:    observe() (filtered reads of what `interest` names), execute() (a run of consecutive changes
//                of this kind in one scope) and already_gone() (an error that means a delete found nothing to
//                delete, which DEL counts as done).
// Describing and the journal's JSON form are declared with the value type (describe, to_json, from_json).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/plan.h"

namespace topo {

class KernelContext;
struct OwnerMark;
namespace tmpl {
class Fields;
struct KindSchema;
}  // namespace tmpl

template <class K>
struct KindOps;  // specialised by every kind's unit

}  // namespace topo
