// Observing a kind whose objects live on one device (addresses, neighbours): one dump per (scope, device,
// family) that the interest names, filtered by the kernel to that device, keeping only the wanted keys.
#pragma once

#include <linux/netlink.h>

#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernel/kernel_context.h"
#include "topo/error.h"

namespace topo {

template <class K>
struct DeviceDump {
  uint16_t type;      // RTM_GETADDR, RTM_GETNEIGH
  const char* what;   // "list addresses": how errors name the dump
  Family (*family_of)(const K&);
  void (*encode)(netlink::Builder& b, Family family, int ifindex);
  // The object a dump reply describes, with the ifindex it is on; nullopt for a reply of another type.
  std::optional<std::pair<int, K>> (*decode)(const nlmsghdr& nlh);
};

template <class K>
void observe_on_devices(KernelContext& k, const std::vector<K>& interest, std::vector<K>& out, const DeviceDump<K>& d) {
  using Key = decltype(std::declval<const K&>().key());
  std::map<std::pair<std::string, std::string>, std::set<Family>> queries;  // (scope, dev) -> families
  std::set<std::remove_cvref_t<Key>> wanted;
  for (const K& o : interest) {
    if (!k.has_scope(o.scope)) continue;
    queries[{o.scope, o.dev}].insert(d.family_of(o));
    wanted.emplace(o.key());
  }
  for (const auto& [where, families] : queries) {
    const auto& [scope, dev] = where;
    auto index = k.ifindex(scope, dev);
    if (!index) continue;  // no device, nothing on it
    for (Family family : families) {
      netlink::Message m(d.type, NLM_F_DUMP);
      d.encode(m.builder(), family, *index);
      std::vector<K> found;
      auto ack = k.socket(scope).dump(
          m.msg(),
          [&](const nlmsghdr& nlh) {
            auto got = d.decode(nlh);
            if (!got || got->first != *index) return;
            K o = std::move(got->second);
            o.scope = scope;
            o.dev = dev;
            if (wanted.count(o.key())) found.push_back(std::move(o));
          },
          [&] { found.clear(); });
      if (ack.err == ENODEV) {  // the device went away since we looked it up
        k.forget_links(scope);
        break;
      }
      if (!ack.ok()) throw NetlinkError(ack.err, d.what, scope + " dev " + dev, ack.ext_ack);
      out.insert(out.end(), found.begin(), found.end());
    }
  }
}

}  // namespace topo
