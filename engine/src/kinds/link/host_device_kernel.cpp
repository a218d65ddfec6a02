// host-device's kernel I/O (see host_device.h): the node device observed in the pod or stranded on the node,
// moved in with its new name and our mark in one request, and moved back as it was.
#include <linux/rtnetlink.h>

#include <cerrno>

#include <fmt/format.h>

#include "kernel/kernel_context.h"
#include "kinds/link/host_device.h"
#include "kinds/link/link_codec.h"
#include "kinds/link/link_requests.h"
#include "topo/error.h"
#include "topo/kernel.h"
#include "topo/model/ownership.h"
#include "topo/model/scope.h"

namespace topo {

namespace {

void send_settings(KernelContext& k, const std::string& scope, int ifindex, const netlink::LinkSettings& s,
                   const char* op, const std::string& object) {
  if (s.empty()) return;
  netlink::Message m(RTM_NEWLINK, 0);
  netlink::encode_link_set(m.builder(), ifindex, s);
  netlink::Ack ack = k.socket(scope).ack(m.msg());
  // __dev_change_net_namespace and dev_change_name: the name is taken in the target namespace.
  if (ack.err == EEXIST && s.name)
    throw NetlinkError(ack.err, op, object, fmt::format("an interface named '{}' exists there already", *s.name));
  check_link_ack(ack, op, object);
}

int index_or_vanished(KernelContext& k, const std::string& scope, const std::string& name, const std::string& object) {
  k.forget_links(scope);
  auto index = k.ifindex(scope, name);
  if (!index) throw NetlinkError(ENODEV, "configure link", object, "link " + name + " vanished");
  return *index;
}

}  // namespace

void take_host_device_origins(Kernel& kernel, std::vector<Link>& desired, const std::vector<Link>& journaled) {
  KernelContext& k = kernel.context();
  for (Link& l : desired) {
    if (l.kind != LinkKind::HostDevice) continue;
    bool kept = false;
    for (const Link& j : journaled) {
      if (j.kind == LinkKind::HostDevice && j.key() == l.key() && j.device == l.device && j.origin) {
        l.origin = j.origin;  // moved by an earlier ADD: what it found then is what DEL restores
        kept = true;
      }
    }
    if (kept) continue;
    std::string object = describe(l);
    auto dev = k.has_scope(kHostScope) ? k.get_link(kHostScope, l.device) : std::nullopt;
    if (!dev)
      throw ConflictError(fmt::format("{}: the node has no interface '{}' (is it in another pod already?)", object, l.device));
    if (is_owner_text(dev->alias))
      throw ConflictError(fmt::format("{}: '{}' is topocni's own ({}); only a device topocni did not create can be "
                                      "moved into a pod", object, l.device, dev->alias));
    for (Family family : {Family::V4, Family::V6}) {
      if (kernel.default_route_dev(kHostScope, family) == l.device)
        throw ConflictError(fmt::format("{}: '{}' carries the node's default {} route; moving it into a pod would cut "
                                        "the node off", object, l.device, family == Family::V4 ? "IPv4" : "IPv6"));
    }
    LinkOrigin& origin = l.origin.emplace();
    origin.ifindex = dev->ifindex;
    origin.alias = dev->alias;
    origin.mtu = dev->mtu;
    origin.mac = MacAddress::parse(dev->mac);
    origin.up = dev->up;
  }
}

void observe_host_device(KernelContext& k, const Link& want, std::vector<Link>& out) {
  auto ours = [&](const netlink::LinkMsg& m, const std::string& in_scope) {
    Link got = link_from(m, want.scope);
    forget_unasked(want, got);
    if (m.master) got.master = k.ifname(in_scope, m.master).value_or("?");
    if (got.owned) {  // the moved device (ours, or another attachment's: the diff tells them apart by alias)
      got.kind = LinkKind::HostDevice;
      got.device = want.device;
      got.origin = want.origin;
    }
    return got;
  };
  if (k.has_scope(want.scope)) {
    if (auto self = k.get_link(want.scope, want.name)) {
      out.push_back(ours(*self, want.scope));
      return;
    }
  }
  // Not in the pod: the pod's namespace may be gone, and the kernel may have returned the device to the node
  // under its pod name. Only one carrying this very attachment's mark is ours to put back.
  if (want.alias.empty() || !k.has_scope(kHostScope)) return;
  auto m = k.get_link(kHostScope, want.name);
  if (!m || m->alias != want.alias) return;
  Link got = ours(*m, kHostScope);
  got.master.clear();  // a master on the node is not the pod's; DEL leaves it (moving back detaches anyway)
  got.stranded = true;
  out.push_back(std::move(got));
}

void move_in(KernelContext& k, const Link& l) {
  std::string object = describe(l);
  auto dev = k.get_link(kHostScope, l.device);
  if (!dev) throw ConflictError(fmt::format("{}: the node has no interface '{}'", object, l.device));
  // The move, the pod's name for the device and our mark in one request (do_setlink moves first, then
  // applies the rest in the new namespace): no instant where the device is in the pod and not marked ours.
  netlink::LinkSettings move;
  move.netns_fd = k.namespaces.fd(l.scope);
  move.name = &l.name;
  move.alias = &l.alias;
  send_settings(k, kHostScope, dev->ifindex, move, "move link into the pod", object);
  k.forget_links(kHostScope);
  // A move takes the device down; what the template asks for is set in the pod. Should that fail, the device
  // goes back before the error propagates: the undo path only undoes changes that took effect.
  try {
    int index = index_or_vanished(k, l.scope, l.name, object);
    netlink::LinkSettings s;
    s.mtu = l.mtu;
    s.txqueuelen = l.txqueuelen;
    s.mac = l.mac;
    if (!l.master.empty()) s.master = master_index(k, l);
    s.promisc = l.promisc;
    s.allmulti = l.allmulti;
    s.up = l.up;
    send_settings(k, l.scope, index, s, "configure moved link", object);
    if (l.hairpin) {
      netlink::Message h(RTM_NEWLINK, 0);
      netlink::encode_bridge_port_set(h.builder(), index, *l.hairpin);
      check_link_ack(k.socket(l.scope).ack(h.msg()), "set bridge port hairpin", object);
    }
  } catch (...) {
    try {
      move_out(k, l);
    } catch (const std::exception&) {
      // The first error is the one to report; the journal still names the device for DEL.
    }
    throw;
  }
}

void move_out(KernelContext& k, const Link& l) {
  std::string object = describe(l);
  // Without an origin (a journal of an ADD that never planned the move) the name still comes back.
  const LinkOrigin origin = l.origin.value_or(LinkOrigin{});
  netlink::LinkSettings back;
  back.name = &l.device;
  back.alias = &origin.alias;  // "" clears our mark
  if (l.stranded) {
    auto m = k.get_link(kHostScope, l.name);
    if (!m || m->alias != l.alias) return;  // gone, or no longer ours
    // dev_change_name refuses to rename a device that is up (EBUSY): down first, as a move would.
    netlink::LinkSettings down;
    down.up = false;
    send_settings(k, kHostScope, m->ifindex, down, "take link down", object);
    send_settings(k, kHostScope, m->ifindex, back, "rename link back", object);
  } else {
    if (!k.has_scope(l.scope)) return;  // the namespace took a virtual device with it
    auto index = k.ifindex(l.scope, l.name);
    if (!index) return;
    back.netns_fd = k.namespaces.fd(kHostScope);
    // Its old ifindex, when nothing took it meanwhile: what refers to the device by index on the node (an
    // nft rule's `iif`, a monitoring agent) finds it again. A move into a pod whose namespace used that index
    // changed it.
    if (origin.ifindex > 0 && !k.ifname(kHostScope, origin.ifindex)) back.new_ifindex = origin.ifindex;
    send_settings(k, l.scope, *index, back, "move link back to the node", object);
    k.forget_links(l.scope);
  }
  int index = index_or_vanished(k, kHostScope, l.device, object);
  // What the template changed goes back (an attribute it left alone is as the device had it); and the up state.
  netlink::LinkSettings restore;
  if (l.origin) {
    if (l.mtu && origin.mtu) restore.mtu = origin.mtu;
    if (l.mac && origin.mac) restore.mac = origin.mac;
    restore.up = origin.up;
  }
  send_settings(k, kHostScope, index, restore, "restore link", object);
}

}  // namespace topo
