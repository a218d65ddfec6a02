#include "lifecycle/ownership.h"

#include <fmt/format.h>

#include "kinds/registry.h"
#include "topo/hash.h"

namespace topo {

OwnerMark owner_mark(const Attachment& a) {
  std::string id = a.id();
  if (id.size() <= 100) return {id};
  std::string owner = fmt::format("{}/{:016x}/{}", a.network.substr(0, 40), fnv1a(a.container_id), a.ifname);
  if (a.plugin.empty()) return {owner};
  // At most 40 + 1 + 16 + 1 + 15 + 1 + 24 = 98 characters: "topocni:" and it fit nft's 128-byte comments.
  return {owner + "/" + (a.plugin.size() <= 24 ? a.plugin : fmt::format("{:016x}", fnv1a(a.plugin)))};
}

void stamp(State& s, const OwnerMark& owner) {
  AllKinds::each([&]<class K>() {
    for (K& o : s.of<K>()) KindOps<K>::stamp(o, owner);
  });
}

}  // namespace topo
