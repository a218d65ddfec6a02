// What the link kind's two kernel files share: links created and deleted (link_kernel.cpp), and node devices
// moved into a pod and back (host_device_kernel.cpp).
#pragma once

#include <string>
#include <vector>

#include "kernel/netlink/socket.h"
#include "kinds/link/link_codec.h"
#include "topo/model/link.h"

namespace topo {

class KernelContext;

// The kernel's answer about a link as the model's Link in `scope` (owned when it carries a topocni mark).
Link link_from(const netlink::LinkMsg& m, const std::string& scope);
// What the template leaves unset is the kernel's to choose: not compared.
void forget_unasked(const Link& want, Link& got);

// Throws NetlinkError for a failed request: `op` on `object` ("create link", "link eth0 type veth ...").
void check_link_ack(const netlink::Ack& ack, const std::string& op, const std::string& object);

// The ifindex of the link's master, refused unless it is there and is a bridge or a vrf.
int master_index(KernelContext& k, const Link& l);

}  // namespace topo
