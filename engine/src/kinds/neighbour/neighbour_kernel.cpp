// The neighbour kind's kernel I/O: one interface's entries of one family per dump; changes in netlink batches.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>

#include "kinds/neighbour/neighbour_codec.h"
#include "kinds/neighbour/neighbour_ops.h"
#include "kinds/rtnl_batched.h"

namespace topo {

void KindOps<Neighbour>::observe(KernelContext& k, const std::vector<Neighbour>& interest, std::vector<Neighbour>& out) {
  std::map<std::pair<std::string, std::string>, std::set<Family>> queries;
  std::set<std::tuple<std::string, std::string, IpAddress>> wanted;
  for (const Neighbour& n : interest) {
    if (!k.has_scope(n.scope)) continue;
    queries[{n.scope, n.dev}].insert(n.address.family);
    wanted.emplace(n.key());
  }
  for (const auto& [where, families] : queries) {
    const auto& [scope, dev] = where;
    auto index = k.ifindex(scope, dev);
    if (!index) continue;  // no device, no entries
    for (Family family : families) {
      netlink::Message m(RTM_GETNEIGH, NLM_F_DUMP);
      netlink::encode_neighbour_dump(m.builder(), family, *index);
      std::vector<Neighbour> found;
      auto ack = k.socket(scope).dump(
          m.msg(),
          [&](const nlmsghdr& nlh) {
            auto msg = netlink::decode_neighbour(nlh);
            if (!msg || msg->ifindex != *index) return;
            Neighbour n = msg->neighbour;
            n.scope = scope;
            n.dev = dev;
            if (wanted.count(n.key())) found.push_back(std::move(n));
          },
          [&] { found.clear(); });
      if (ack.err == ENODEV) {  // the device went away since we looked it up
        k.forget_links(scope);
        break;
      }
      if (!ack.ok()) throw NetlinkError(ack.err, "list neighbours", scope + " dev " + dev, ack.ext_ack);
      out.insert(out.end(), found.begin(), found.end());
    }
  }
}

void KindOps<Neighbour>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                                 Progress& p) {
  run_rtnl_changes<Neighbour>(k, changes, begin, end, p, RTM_NEWNEIGH, RTM_DELNEIGH,
                        [](netlink::Builder& b, const Neighbour& o, Action action, uint32_t index) {
                          (void)action;  // the same body for NEW and DEL
                          netlink::encode_neighbour(b, o, static_cast<int>(index));
                        });
}

// An entry goes with its device (ENODEV); one already removed answers ENOENT.
bool KindOps<Neighbour>::already_gone(const Change& c, int err) {
  return c.action == Action::Delete && (err == ENODEV || err == ENOENT);
}

}  // namespace topo
