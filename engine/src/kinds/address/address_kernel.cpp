// The address kind's kernel I/O: one interface's addresses of one family per dump; changes in netlink batches.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>

#include "kinds/address/address_codec.h"
#include "kinds/address/address_ops.h"
#include "kinds/rtnl_batched.h"

namespace topo {

void KindOps<Address>::observe(KernelContext& k, const std::vector<Address>& interest, std::vector<Address>& out) {
  // (scope, dev) → families asked about, and the keys wanted.
  std::map<std::pair<std::string, std::string>, std::set<Family>> queries;
  std::set<std::tuple<std::string, std::string, IpPrefix>> wanted;
  for (const Address& a : interest) {
    if (!k.has_scope(a.scope)) continue;
    queries[{a.scope, a.dev}].insert(a.local.family());
    wanted.emplace(a.key());
  }
  for (const auto& [where, families] : queries) {
    const auto& [scope, dev] = where;
    auto index = k.ifindex(scope, dev);
    if (!index) continue;  // no device, no addresses
    for (Family family : families) {
      netlink::Message m(RTM_GETADDR, NLM_F_DUMP);
      netlink::encode_address_dump(m.builder(), family, *index);
      std::vector<Address> found;
      auto ack = k.socket(scope).dump(
          m.msg(),
          [&](const nlmsghdr& nlh) {
            auto msg = netlink::decode_address(nlh);
            if (!msg || msg->ifindex != *index) return;
            Address a = msg->address;
            a.scope = scope;
            a.dev = dev;
            if (wanted.count(a.key())) found.push_back(std::move(a));
          },
          [&] { found.clear(); });
      if (ack.err == ENODEV) {  // the device went away since we looked it up
        k.forget_links(scope);
        break;
      }
      if (!ack.ok()) throw NetlinkError(ack.err, "list addresses", scope + " dev " + dev, ack.ext_ack);
      out.insert(out.end(), found.begin(), found.end());
    }
  }
}

void KindOps<Address>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                               Progress& p) {
  run_rtnl_changes<Address>(k, changes, begin, end, p, RTM_NEWADDR, RTM_DELADDR,
                        [](netlink::Builder& b, const Address& o, Action action, uint32_t index) {
                          (void)action;  // the same body for NEW and DEL
                          netlink::encode_address(b, o, static_cast<int>(index));
                        });
}

// An address goes with its device (ENODEV), and one already removed answers EADDRNOTAVAIL.
bool KindOps<Address>::already_gone(const Change& c, int err) {
  return c.action == Action::Delete && (err == ENODEV || err == EADDRNOTAVAIL);
}

}  // namespace topo
