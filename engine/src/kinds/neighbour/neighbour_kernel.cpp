// The neighbour kind's kernel I/O: one interface's entries of one family per dump; changes in netlink batches.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>

#include "kinds/neighbour/neighbour_codec.h"
#include "kinds/neighbour/neighbour_ops.h"
#include "kinds/device_dump.h"
#include "kinds/rtnl_batched.h"

namespace topo {

void KindOps<Neighbour>::observe(KernelContext& k, const std::vector<Neighbour>& interest, std::vector<Neighbour>& out) {
  static const DeviceDump<Neighbour> dump{
      RTM_GETNEIGH, "list neighbours", [](const Neighbour& a) { return a.address.family; }, netlink::encode_neighbour_dump,
      [](const nlmsghdr& nlh) -> std::optional<std::pair<int, Neighbour>> {
        auto msg = netlink::decode_neighbour(nlh);
        if (!msg) return std::nullopt;
        return std::pair{msg->ifindex, msg->neighbour};
      }};
  observe_on_devices(k, interest, out, dump);
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
