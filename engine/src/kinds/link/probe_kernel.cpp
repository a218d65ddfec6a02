// Probing a link kind: a create request that the kernel refuses after it has looked the kind up, and before
// it allocates anything. rtnl_newlink looks up (and, like `ip link add`, tries to load) the kind's
// rtnl_link_ops first; without them it answers EOPNOTSUPP "Unknown device type". With them it goes on to
// rtnl_create_link, whose first check refuses zero transmit queues (EINVAL "Invalid number of transmit
// queues") before any device exists. Both answers have been the kernel's since 4.x; any other answer is
// reported rather than guessed at.
#include "kinds/link/link_probe.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cerrno>

#include "kernel/kernel_context.h"
#include "topo/error.h"

namespace topo {

bool link_kind_probe(KernelContext& k, const std::string& scope, const std::string& kind) {
  netlink::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  netlink::Builder& b = m.builder();
  auto& ifi = b.header<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  b.put_u32(IFLA_NUM_TX_QUEUES, 0);
  {
    auto info = b.nest(IFLA_LINKINFO);
    b.put_str(IFLA_INFO_KIND, kind);
  }
  netlink::Ack ack = k.socket(scope).ack(m.msg());
  if (ack.err == EOPNOTSUPP) return false;
  if (ack.err == EINVAL) return true;
  throw NetlinkError(ack.err, "probe link kind", kind,
                     ack.ok() ? "the kernel accepted a request it should refuse" : ack.ext_ack);
}

}  // namespace topo
