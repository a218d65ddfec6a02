// The address kind's kernel I/O: one interface's addresses of one family per dump; changes in netlink batches.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>

#include "kinds/address/address_codec.h"
#include "kinds/address/address_ops.h"
#include "kinds/device_dump.h"
#include "kinds/rtnl_batched.h"

namespace topo {

void KindOps<Address>::observe(KernelContext& k, const std::vector<Address>& interest, std::vector<Address>& out) {
  static const DeviceDump<Address> dump{
      RTM_GETADDR, "list addresses", [](const Address& a) { return a.local.family(); }, netlink::encode_address_dump,
      [](const nlmsghdr& nlh) -> std::optional<std::pair<int, Address>> {
        auto msg = netlink::decode_address(nlh);
        if (!msg) return std::nullopt;
        return std::pair{msg->ifindex, msg->address};
      }};
  size_t first = out.size();
  observe_on_devices(k, interest, out, dump);
  // The kernel labels every IPv4 address with its device's name unless told otherwise: only another label
  // is the address's own.
  for (size_t i = first; i < out.size(); ++i)
    if (out[i].label == out[i].dev) out[i].label.clear();
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
