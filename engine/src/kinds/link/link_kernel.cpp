// The link kind's kernel I/O: one RTM_GETLINK per named link, links created (a child directly in its
// namespace on a parent in another, a veth pair across two), changed in place where the kernel allows it and
// re-created where it does not, and deleted (a veth through either end).
#include <linux/rtnetlink.h>

#include <array>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "kernel/kernel_context.h"
#include "kinds/link/host_device.h"
#include "kinds/link/link_codec.h"
#include "kinds/link/link_ops.h"
#include "kinds/link/link_requests.h"
#include "topo/error.h"
#include "topo/hash.h"

namespace topo {

Link link_from(const netlink::LinkMsg& m, const std::string& scope) {
  Link l;
  l.scope = scope;
  l.name = m.name;
  l.kind = link_kind_of(m.kind).value_or(LinkKind::Existing);
  l.mtu = m.mtu;
  l.txqueuelen = m.txqueuelen;
  l.mac = MacAddress::parse(m.mac);  // nullopt for a device without an Ethernet address
  l.up = m.up;
  l.promisc = m.promisc;
  l.allmulti = m.allmulti;
  l.hairpin = m.hairpin;
  l.data = m.data;
  l.alias = m.alias;
  l.owned = is_owner_text(m.alias);
  return l;
}

void forget_unasked(const Link& want, Link& got) {
  auto keep_if = [](bool asked, auto& field) {
    if (!asked) field.reset();
  };
  keep_if(want.mtu.has_value(), got.mtu);
  keep_if(want.txqueuelen.has_value(), got.txqueuelen);
  keep_if(want.mac.has_value(), got.mac);
  keep_if(want.promisc.has_value(), got.promisc);
  keep_if(want.allmulti.has_value(), got.allmulti);
  keep_if(want.hairpin.has_value(), got.hairpin);
  const LinkKindData& w = want.data;
  LinkKindData& g = got.data;
  keep_if(w.macvlan_mode.has_value(), g.macvlan_mode);
  keep_if(w.ipvlan_mode.has_value(), g.ipvlan_mode);
  keep_if(w.ipvlan_flag.has_value(), g.ipvlan_flag);
  keep_if(w.vlan_id.has_value(), g.vlan_id);
  keep_if(w.vlan_protocol.has_value(), g.vlan_protocol);
  keep_if(w.vrf_table.has_value(), g.vrf_table);
  keep_if(w.vni.has_value(), g.vni);
  keep_if(w.local.has_value(), g.local);
  keep_if(w.remote.has_value(), g.remote);
  keep_if(w.port.has_value(), g.port);
}

void check_link_ack(const netlink::Ack& ack, const std::string& op, const std::string& object) {
  if (!ack.ok()) throw NetlinkError(ack.err, op, object, ack.ext_ack);
}

int master_index(KernelContext& k, const Link& l) {
  auto m = k.get_link(l.scope, l.master);
  if (!m)
    throw ConflictError(fmt::format("{}: master '{}' does not exist in namespace '{}'", describe(l), l.master, l.scope));
  auto kind = link_kind_of(m->kind);
  if (!kind || !can_be_master(*kind))
    throw ConflictError(fmt::format("{}: master '{}' is {}, not a bridge or vrf", describe(l), l.master,
                                    m->kind.empty() ? "a device without a kind" : "a " + m->kind));
  return m->ifindex;
}

namespace {

// Two veth ends are each other's peer when each one's IFLA_LINK is the other's ifindex (veth_get_iflink).
bool are_peers(const netlink::LinkMsg& a, const netlink::LinkMsg& b) {
  return a.kind == "veth" && b.kind == "veth" && a.link == b.ifindex && b.link == a.ifindex;
}

const std::string& peer_scope_of(const Link& l) { return l.peer_scope.empty() ? l.scope : l.peer_scope; }
const std::string& parent_scope_of(const Link& l) { return l.parent_scope.empty() ? l.scope : l.parent_scope; }
// A child is created by the socket of its parent's namespace (IFLA_LINK is looked up there) and placed in
// its own with IFLA_NET_NS_FD; everything else by its own namespace's socket.
const std::string& creating_scope(const Link& l) { return l.parent.empty() ? l.scope : parent_scope_of(l); }

// Links other than veths are created down under their creation_name() (see topo/model/link.h), so that a
// link of ours is recognisable from the instant it exists; a veth pair is recognised by its peer instead, and
// a host-device is never created: it is moved, renamed and marked in one request (host_device_kernel.cpp).
bool staged(const Link& l) { return l.kind != LinkKind::Veth && l.kind != LinkKind::HostDevice; }

// A bridge created without an address takes the lowest of its ports' addresses, and changes it as ports come
// and go: the neighbours' ARP caches then point at an address that left with a port (a pod on a shared
// bridge loses its gateway when another pod's port goes). Like systemd-networkd (MACAddressPolicy=persistent),
// a bridge whose template sets no `mac` gets a fixed one derived from its name: locally administered,
// unicast, the same on every ADD. Unset in the template, it is not compared, so the diff never fights it.
MacAddress stable_bridge_mac(const Link& l) {
  uint64_t h = fnv1a("topocni bridge " + l.name);
  MacAddress mac;
  for (size_t i = 0; i < mac.bytes.size(); ++i) mac.bytes[i] = static_cast<uint8_t>(h >> (8 * i));
  mac.bytes[0] = static_cast<uint8_t>((mac.bytes[0] & 0xfe) | 0x02);
  return mac;
}
const std::string& name_at_creation(const Link& l, const std::string& staged_name) {
  return staged(l) ? staged_name : l.name;
}

void send_create(KernelContext& k, const Link& l, const std::string& staged_name) {
  std::string object = describe(l);
  netlink::LinkPlacement where;
  if (!l.parent.empty()) {
    auto parent = k.ifindex(parent_scope_of(l), l.parent);
    if (!parent)
      throw ConflictError(fmt::format("{}: parent '{}' does not exist in namespace '{}'", object, l.parent, parent_scope_of(l)));
    where.parent_ifindex = *parent;
  }
  if (creating_scope(l) != l.scope) where.netns_fd = k.namespaces.fd(l.scope);
  if (l.kind == LinkKind::Veth) where.peer_netns_fd = k.namespaces.fd(peer_scope_of(l));
  Link created = l;
  if (staged(l)) {
    created.name = staged_name;
    created.up = false;
  }
  if (l.kind == LinkKind::Bridge && !l.mac) created.mac = stable_bridge_mac(l);
  netlink::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  netlink::encode_link_create(m.builder(), created, where);
  netlink::Ack ack = k.socket(creating_scope(l)).ack(m.msg());
  // rtnl_newlink: no rtnl_link_ops for the kind even after request_module("rtnl-link-<kind>").
  if (ack.err == EOPNOTSUPP && ack.ext_ack.find("Unknown device type") != std::string::npos)
    throw NetlinkError(ack.err, "create link", object,
                       fmt::format("this kernel lacks the {} link kind (no driver built in, no module to load)",
                                   link_kind_name(l.kind)));
  check_link_ack(ack, "create link", object);
}

// Sets on a new link what its creation could not: its name (a staged link), the alias that marks it ours, its
// master, promisc and up, in one request; then a bridge port's hairpin (which needs the master in place), and
// a veth peer's alias and up.
void finish_link(KernelContext& k, const Link& l, const std::string& staged_name) {
  std::string object = describe(l);
  auto index = k.ifindex(l.scope, name_at_creation(l, staged_name));
  if (!index) throw NetlinkError(ENODEV, "set link alias", object, "link " + l.name + " vanished");
  netlink::LinkSettings s;
  s.alias = &l.alias;
  if (staged(l)) {
    s.name = &l.name;
    if (l.up) s.up = true;
  }
  if (!l.master.empty()) s.master = master_index(k, l);
  s.promisc = l.promisc;
  s.allmulti = l.allmulti;
  netlink::Message m(RTM_NEWLINK, 0);
  netlink::encode_link_set(m.builder(), *index, s);
  check_link_ack(k.socket(l.scope).ack(m.msg()), staged(l) ? "name and mark link" : "set link alias", object);
  k.remember_link(l.scope, l.name, *index);
  if (l.hairpin) {
    netlink::Message h(RTM_NEWLINK, 0);
    netlink::encode_bridge_port_set(h.builder(), *index, *l.hairpin);
    check_link_ack(k.socket(l.scope).ack(h.msg()), "set bridge port hairpin", object);
  }
  if (l.kind == LinkKind::Veth) {
    auto peer = k.ifindex(peer_scope_of(l), l.peer_name);
    if (!peer) throw NetlinkError(ENODEV, "set link alias", object, "veth end " + l.peer_name + " vanished");
    netlink::LinkSettings ps;
    ps.alias = &l.alias;
    ps.up = l.up;
    netlink::Message p(RTM_NEWLINK, 0);
    netlink::encode_link_set(p.builder(), *peer, ps);
    check_link_ack(k.socket(peer_scope_of(l)).ack(p.msg()), "set link alias", object);
  }
}

void forget_all(KernelContext& k, const Link& l) {
  k.forget_links(l.scope);
  if (l.kind == LinkKind::Veth) k.forget_links(peer_scope_of(l));
}

void create_link(KernelContext& k, const Link& l) {
  if (l.kind == LinkKind::HostDevice) return move_in(k, l);
  std::string staged_name = staged(l) ? creation_name(l) : l.name;
  send_create(k, l, staged_name);
  forget_all(k, l);
  // If finishing fails, the link must not stay behind unmarked: it would never be recognised as ours.
  try {
    finish_link(k, l, staged_name);
  } catch (...) {
    for (const std::string* name : std::array<const std::string*, 2>{&staged_name, &l.name}) {
      auto index = k.ifindex(l.scope, *name);
      if (!index) continue;
      netlink::Message m(RTM_DELLINK, 0);
      netlink::encode_link_delete(m.builder(), *index);
      k.socket(l.scope).ack(m.msg());
      forget_all(k, l);
      break;
    }
    throw;
  }
}

void delete_link(KernelContext& k, const Link& l) {
  if (l.kind == LinkKind::HostDevice) return move_out(k, l);
  std::string scope = l.scope;
  std::optional<int> index;
  if (k.has_scope(l.scope)) index = k.ifindex(l.scope, l.name);
  const std::string& peer_scope = peer_scope_of(l);
  if (!index && l.kind == LinkKind::Veth && !l.peer_name.empty() && k.has_scope(peer_scope)) {
    // Only the other end is left. It is deleted only if it carries our mark: a link of someone else that
    // happens to have the peer's name is not ours to remove.
    auto peer = k.get_link(peer_scope, l.peer_name);
    if (peer && peer->kind == "veth" && is_owner_text(peer->alias)) {
      index = peer->ifindex;
      scope = peer_scope;
    }
  }
  if (!index) return;  // gone already (a veth with both ends, a child with its parent or namespace)
  netlink::Message m(RTM_DELLINK, 0);
  netlink::encode_link_delete(m.builder(), *index);
  // Deleting one end of a veth deletes its peer too (veth_dellink), whichever namespace it is in.
  check_link_ack(k.socket(scope).ack(m.msg()), "delete link", describe(l));
  forget_all(k, l);
}

// What the kernel cannot change on a live link: its kind, its veth peer, its parent, its kind data (a vlan's
// id, a vxlan's vni...), a host-device's node device. Those are re-created (moved back and another moved in).
bool needs_recreate(const Link& prev, const Link& l) {
  return prev.kind != l.kind || prev.peer_scope != l.peer_scope || prev.peer_name != l.peer_name ||
         prev.parent != l.parent || parent_scope_of(prev) != parent_scope_of(l) || prev.data != l.data ||
         prev.device != l.device;
}

// One RTM_NEWLINK with `s` for the link `name` of `scope` (nothing when `s` sets nothing).
void change_settings(KernelContext& k, const std::string& scope, const std::string& name,
                     const netlink::LinkSettings& s, const std::string& object) {
  if (s.empty()) return;
  auto index = k.ifindex(scope, name);
  if (!index) throw NetlinkError(ENODEV, "change link", object, "link " + name + " not found in scope " + scope);
  netlink::Message m(RTM_NEWLINK, 0);
  netlink::encode_link_set(m.builder(), *index, s);
  check_link_ack(k.socket(scope).ack(m.msg()), "change link", object);
}

void change_link(KernelContext& k, const Change& c) {
  const Link& l = std::get<Link>(c.object);
  const Link* prev = c.previous ? std::get_if<Link>(&*c.previous) : nullptr;
  if (l.kind == LinkKind::Existing) {
    // Someone else's: only the attributes the item sets change, in place, never by re-creating it; an
    // attribute it no longer sets is left as it is (DEL, not a later ADD, puts the origin back).
    if (!prev) throw ConflictError("create " + describe(l) + ": existing links are never created");
    netlink::LinkSettings s;
    if (l.mtu && prev->mtu != l.mtu) s.mtu = l.mtu;
    if (l.mac && prev->mac != l.mac) s.mac = l.mac;
    if (prev->master != l.master) s.master = l.master.empty() ? 0 : master_index(k, l);
    if (l.promisc && prev->promisc != l.promisc) s.promisc = l.promisc;
    if (l.allmulti && prev->allmulti != l.allmulti) s.allmulti = l.allmulti;
    if (s.empty()) return;
    change_settings(k, l.scope, l.name, s, describe(l));
    k.forget_links(l.scope);
    return;
  }
  if (!prev || needs_recreate(*prev, l)) {
    if (prev) delete_link(k, *prev);
    create_link(k, l);
    return;
  }
  std::string object = describe(l);
  // Both ends of a veth share mtu, up and the alias; the rest is this end's.
  netlink::LinkSettings both;
  // An mtu no longer given goes back to the common default.
  if (prev->mtu != l.mtu) both.mtu = l.mtu.value_or(1500);
  if (prev->up != l.up) both.up = l.up;
  if (prev->alias != l.alias) both.alias = &l.alias;
  netlink::LinkSettings self = both;
  if (prev->txqueuelen != l.txqueuelen && l.txqueuelen) self.txqueuelen = l.txqueuelen;
  if (prev->mac != l.mac && l.mac) self.mac = l.mac;
  if (prev->master != l.master) self.master = l.master.empty() ? 0 : master_index(k, l);
  if (prev->promisc != l.promisc) self.promisc = l.promisc.value_or(false);
  if (prev->allmulti != l.allmulti) self.allmulti = l.allmulti.value_or(false);
  change_settings(k, l.scope, l.name, self, object);
  if (l.kind == LinkKind::Veth) change_settings(k, peer_scope_of(l), l.peer_name, both, object);
  if (prev->hairpin != l.hairpin && !l.master.empty()) {
    auto index = k.ifindex(l.scope, l.name);
    if (!index) throw NetlinkError(ENODEV, "change link", object, "link " + l.name + " vanished");
    netlink::Message h(RTM_NEWLINK, 0);
    netlink::encode_bridge_port_set(h.builder(), *index, l.hairpin.value_or(false));
    check_link_ack(k.socket(l.scope).ack(h.msg()), "set bridge port hairpin", object);
  }
}

}  // namespace

void KindOps<Link>::observe(KernelContext& k, const std::vector<Link>& interest, std::vector<Link>& out) {
  std::set<std::pair<std::string, std::string>> emitted;
  auto emit = [&](Link l) {
    if (emitted.emplace(l.scope, l.name).second) out.push_back(std::move(l));
  };
  for (const Link& want : interest) {
    if (want.kind == LinkKind::HostDevice) {
      std::vector<Link> found;
      observe_host_device(k, want, found);
      for (Link& l : found) emit(std::move(l));
      continue;
    }
    if (!k.has_scope(want.scope)) continue;
    auto self = k.get_link(want.scope, want.name);
    if (want.kind == LinkKind::Existing) {
      // Someone else's link, whatever its kind and alias: only what the item sets is compared (and put back).
      if (!self) continue;
      Link got = link_from(*self, want.scope);
      forget_unasked(want, got);
      got.kind = LinkKind::Existing;
      got.owned = false;
      got.alias.clear();
      got.up = want.up;
      got.data = {};
      got.hairpin.reset();
      got.txqueuelen.reset();
      if (!want.master.empty() || (want.origin && want.origin->master))
        got.master = self->master ? k.ifname(want.scope, self->master).value_or("?") : "";
      got.origin = want.origin;
      emit(std::move(got));
      continue;
    }
    bool veth = want.kind == LinkKind::Veth && !want.peer_name.empty();
    const std::string& peer_scope = peer_scope_of(want);
    std::optional<netlink::LinkMsg> peer;
    if (veth && k.has_scope(peer_scope)) peer = k.get_link(peer_scope, want.peer_name);

    if (staged(want) && want.kind != LinkKind::Existing && !want.alias.empty()) {
      // A creation a kill interrupted: the journal vouches for it (lifecycle/attachment.cpp).
      if (auto unfinished = k.get_link(want.scope, creation_name(want))) emit(link_from(*unfinished, want.scope));
    }
    if (!self) {
      // Only the other end exists (or something else has its name): report it as its own link.
      if (peer) emit(link_from(*peer, peer_scope));
      continue;
    }
    Link got = link_from(*self, want.scope);
    forget_unasked(want, got);
    if (self->master) got.master = k.ifname(want.scope, self->master).value_or("?");
    if (!want.parent.empty() && k.has_scope(parent_scope_of(want))) {
      // The parent's index is one of the parent's namespace: name it there, to compare with the template.
      auto name = self->link ? k.ifname(parent_scope_of(want), self->link) : std::nullopt;
      got.parent = name.value_or("?");
      got.parent_scope = want.parent_scope;
    }
    if (peer && are_peers(*self, *peer)) {
      got.peer_scope = want.peer_scope;
      got.peer_name = want.peer_name;
    } else if (peer) {
      // The peer name is taken by a link that is not this one's peer: the diff reports the conflict.
      emit(link_from(*peer, peer_scope));
    }
    emit(std::move(got));
  }
}

void KindOps<Link>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                            Progress& p) {
  for (size_t i = begin; i < end; ++i) {
    const Change& c = changes[i];
    p.attempt(i, c);
    const Link& l = std::get<Link>(c.object);
    const Link* prev = c.previous ? std::get_if<Link>(&*c.previous) : nullptr;
    // An existing link is changed in place (change_link), never created or deleted.
    bool existing = l.kind == LinkKind::Existing || (prev && prev->kind == LinkKind::Existing);
    if (existing && (c.action != Action::Replace || l.kind != LinkKind::Existing || !prev || prev->kind != LinkKind::Existing))
      throw ConflictError(operation_of(c) + " " + describe(l) + ": existing links are never created or deleted");
    switch (c.action) {
      case Action::Create: create_link(k, l); break;
      case Action::Delete: delete_link(k, l); break;
      case Action::Replace: change_link(k, c); break;
    }
    p.took_effect(i);
  }
}

// A link whose namespace or parent went away took the link with it.
bool KindOps<Link>::already_gone(const Change& c, int err) { return c.action == Action::Delete && err == ENODEV; }

}  // namespace topo
