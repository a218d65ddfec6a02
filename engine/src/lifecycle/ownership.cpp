#include "lifecycle/ownership.h"

#include <fmt/format.h>

#include "kinds/registry.h"
#include "topo/hash.h"

namespace topo {

OwnerMark owner_mark(const Attachment& a) {
  std::string id = a.id();
  if (id.size() <= 100) return {id};
  return {fmt::format("{}/{:016x}/{}", a.network.substr(0, 40), fnv1a(a.container_id), a.ifname)};
}

void stamp(State& s, const OwnerMark& owner) {
  AllKinds::each([&]<class K>() {
    for (K& o : s.of<K>()) KindOps<K>::stamp(o, owner);
  });
}

}  // namespace topo
