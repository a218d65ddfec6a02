// What DEL puts back on links someone else made: taken when ADD plans, journaled before anything changes, so
// a kill right after the change still leaves DEL knowing it. A host-device's origin is the node device before
// the move (host_device_kernel.cpp); an existing link's is exactly the attributes the item sets, as they were
// before the first ADD that set them.
#include "kernel/kernel_context.h"
#include "kinds/link/host_device.h"
#include "kinds/link/link_ops.h"
#include "topo/kernel.h"

namespace topo {

namespace {

void take_existing_origins(Kernel& kernel, std::vector<Link>& desired, const std::vector<Link>& journaled) {
  KernelContext& k = kernel.context();
  for (Link& l : desired) {
    if (!changes_existing(l)) continue;
    LinkOrigin origin;
    for (const Link& j : journaled)
      if (j.kind == LinkKind::Existing && j.key() == l.key() && j.origin) origin = *j.origin;
    // What an earlier ADD recorded stays (the kernel now shows our value); an attribute set for the first
    // time is read as it is now. A missing link is left to the diff, which refuses it by name.
    std::optional<netlink::LinkMsg> now;
    if (k.has_scope(l.scope)) now = k.get_link(l.scope, l.name);
    if (!now) continue;
    if (l.mtu && !origin.mtu) origin.mtu = now->mtu;
    if (l.mac && !origin.mac) origin.mac = MacAddress::parse(now->mac);
    if (l.promisc && !origin.promisc) origin.promisc = now->promisc;
    if (l.allmulti && !origin.allmulti) origin.allmulti = now->allmulti;
    if (!l.master.empty() && !origin.master)
      origin.master = now->master ? k.ifname(l.scope, now->master).value_or("") : "";
    l.origin = origin;
  }
}

}  // namespace

void KindOps<Link>::take_origins(Kernel& kernel, std::vector<Link>& desired, const std::vector<Link>& journaled) {
  take_host_device_origins(kernel, desired, journaled);
  take_existing_origins(kernel, desired, journaled);
}

}  // namespace topo
