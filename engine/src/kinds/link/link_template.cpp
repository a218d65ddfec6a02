// The link kind's template form: the keys of a `links:` item, which of them each kind takes, and the checks
// that need only the item itself (ranges, a MAC's shape, a vxlan's families). Checks that need the other
// links (a `master` that is a bridge or vrf) are in the diff, and those that need the kernel in link_kernel.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "kinds/absent.h"
#include "kinds/link/link_ops.h"
#include "kinds/link/link_words.h"
#include "template/fields.h"
#include "template/schema.h"

namespace topo {

namespace {

std::string other_scope(const std::string& scope) { return scope == kHostScope ? kContainerScope : kHostScope; }

// Keys every created link takes, and those only some kinds take.
const std::set<std::string> kCommonKeys = {"name", "kind", "mtu", "txqueuelen", "mac", "master", "up", "promisc", "allmulti", "hairpin"};
// What may be changed on a link someone else made (the tuning and vrf plugins' changes): each is put back on
// DEL. Not its name, up state, queue length or a bridge port's hairpin: nothing asks for them, and each
// would need its own origin.
const std::set<std::string> kExistingKeys = {"mtu", "mac", "master", "promisc", "allmulti"};
std::set<std::string> kind_keys(LinkKind k) {
  switch (k) {
    case LinkKind::Veth: return {"peer"};
    case LinkKind::Macvlan: return {"parent", "mode"};
    case LinkKind::Ipvlan: return {"parent", "mode", "flag"};
    case LinkKind::Vlan: return {"parent", "id", "protocol"};
    case LinkKind::Vxlan: return {"parent", "vni", "local", "remote", "group", "port"};
    case LinkKind::Vrf: return {"table"};
    case LinkKind::HostDevice: return {"device"};
    case LinkKind::Existing: return kExistingKeys;
    case LinkKind::Bridge:
    case LinkKind::Dummy: return {};
  }
  return {};
}

const char* const kAllKeys[] = {"device", "peer", "parent", "mode", "flag", "id", "protocol", "vni", "local", "remote", "group",
                                "port", "table", "mtu", "txqueuelen", "mac", "master", "up", "promisc", "allmulti", "hairpin"};

// A key the item has that its kind does not take: say which kinds take it.
void refuse_foreign_keys(tmpl::Fields& f, LinkKind kind) {
  std::set<std::string> allowed = kind_keys(kind);
  if (kind != LinkKind::Existing) allowed.insert(kCommonKeys.begin(), kCommonKeys.end());
  for (const char* key : kAllKeys) {
    if (allowed.contains(key) || !f.has(key)) continue;
    if (kind == LinkKind::Existing)
      f.fail(key, fmt::format("'{}' cannot be set on a link of kind existing: only mtu, mac, master, promisc and "
                              "allmulti can (DEL puts them back)", key));
    std::string takers;
    for (auto& [k, word] : kLinkKinds.entries())
      if (kind_keys(k).contains(key)) takers += std::string(takers.empty() ? "" : ", ") + word;
    f.fail(key, fmt::format("'{}' is not an attribute of a {} link (only of: {})", key, link_kind_name(kind), takers));
  }
}

// The attributes a created link and an existing one share.
void read_changes(tmpl::Fields& f, Link& l) {
  // 68 is the IPv4 minimum (RFC 791) and most drivers' min_mtu.
  l.mtu = f.uint("mtu", 68, 65535);
  l.mac = f.unicast_mac("mac");
  if (auto master = f.ifname("master")) {
    if (*master == l.name) f.fail("master", "a link cannot be its own master");
    l.master = *master;
  }
  l.promisc = f.boolean("promisc");
  l.allmulti = f.boolean("allmulti");
}

void read_vxlan(tmpl::Fields& f, LinkKindData& d) {
  if (!f.has("vni")) f.fail("vni", "a vxlan link needs a vni (0 to 16777215)");
  d.vni = f.uint("vni", 0, 0xFFFFFF);
  d.local = f.ip("local");
  if (f.has("remote") && f.has("group")) f.fail("group", "a vxlan link takes a remote or a group, not both");
  if ((d.remote = f.ip("remote")) && is_multicast(*d.remote))
    f.fail("remote", fmt::format("{} is a multicast address: write it as `group`", d.remote->str()));
  if (auto g = f.ip("group")) {
    if (!is_multicast(*g)) f.fail("group", fmt::format("{} is not a multicast address: write it as `remote`", g->str()));
    d.remote = g;
  }
  if (d.local && d.remote && d.local->family != d.remote->family)
    f.fail(f.has("group") ? "group" : "remote", "the local and remote addresses of a vxlan link are of different families");
  if (auto port = f.uint("port", 1, 65535)) d.port = static_cast<uint16_t>(*port);
}

}  // namespace

const tmpl::KindSchema& KindOps<Link>::schema() {
  static const tmpl::KindSchema s{
      "a link",
      {{"name", true},   {"kind", false},   {"peer", false},     {"parent", false},   {"mtu", false},
       {"txqueuelen", false}, {"mac", false}, {"master", false}, {"up", false},     {"promisc", false},
       {"hairpin", false}, {"allmulti", false}, {"mode", false},  {"flag", false},     {"id", false},       {"protocol", false},
       {"table", false},  {"vni", false},   {"local", false},    {"remote", false},   {"group", false},
       {"port", false},   {"device", false}, {"state", false}},
      {{"peer", "a veth peer", {{"name", true}, {"scope", false}}},
       {"parent", "a link's parent device", {{"name", true}, {"scope", false}}}}};
  return s;
}

void KindOps<Link>::build(tmpl::Fields& f, const std::string& scope, std::vector<Link>& out) {
  Link l;
  l.scope = scope;
  l.name = f.required(&tmpl::Fields::ifname, "name");
  refuse_absent(f, "a link",
                "deleting a link someone else made also deletes its addresses, routes and neighbours (and a "
                "veth's peer), and a physical device cannot be deleted at all, so DEL could not put it back as "
                "it was");
  l.kind = f.word("kind", kLinkKinds).value_or(LinkKind::Veth);
  refuse_foreign_keys(f, l.kind);
  if (l.kind == LinkKind::Existing) {  // it must be there; never created or deleted, changed as far as asked
    read_changes(f, l);
    out.push_back(std::move(l));
    return;
  }
  if (l.kind == LinkKind::HostDevice) {
    if (scope != kContainerScope)
      f.fail("kind", "a host-device link moves a node device into the pod: declare it in the container scope");
    if (!f.has("device")) f.fail("device", "a host-device link needs the node device to move: device: <name>");
    l.device = f.required(&tmpl::Fields::ifname, "device");
  }
  if (l.kind == LinkKind::Veth) {
    if (!f.has("peer")) f.fail("peer", "a veth link needs a peer: {name: ..., scope: host|container}");
    tmpl::Fields peer = f.child("peer");
    l.peer_name = peer.required(&tmpl::Fields::ifname, "name");
    l.peer_scope = peer.choice<std::string>("scope", {{"host", kHostScope}, {"container", kContainerScope}})
                       .value_or(other_scope(scope));
    if (l.peer_scope == scope && l.peer_name == l.name)
      peer.fail("name", "a veth's peer in the same scope needs a different name");
  }
  if (f.has("parent")) {
    tmpl::Fields parent = f.child("parent");
    l.parent = parent.required(&tmpl::Fields::ifname, "name");
    // A pod's child link is made on a node device: the parent's scope is the host unless it says otherwise.
    l.parent_scope = parent.choice<std::string>("scope", {{"host", kHostScope}, {"container", kContainerScope}})
                         .value_or(kHostScope);
    if (l.parent_scope == scope && l.parent == l.name) parent.fail("name", "a link cannot be its own parent");
  } else if (needs_parent(l.kind)) {
    f.fail("parent", fmt::format("a {} link needs a parent: {{name: <device>, scope: host|container}}", link_kind_name(l.kind)));
  }
  LinkKindData& d = l.data;
  switch (l.kind) {
    case LinkKind::Macvlan: d.macvlan_mode = f.word("mode", kMacvlanModes); break;
    case LinkKind::Ipvlan:
      d.ipvlan_mode = f.word("mode", kIpvlanModes);
      d.ipvlan_flag = f.word("flag", kIpvlanFlags);
      break;
    case LinkKind::Vlan:
      if (!f.has("id")) f.fail("id", "a vlan link needs an id (0 to 4094)");
      // 4095 is reserved by 802.1Q (vlan_validate refuses it: VLAN_VID_MASK is 0xfff, and id >= VLAN_VID_MASK).
      d.vlan_id = static_cast<uint16_t>(f.required(&tmpl::Fields::uint, "id", 0u, 4094u));
      d.vlan_protocol = f.word("protocol", kVlanProtocols);
      break;
    case LinkKind::Vxlan: read_vxlan(f, d); break;
    case LinkKind::Vrf:
      if (!f.has("table")) f.fail("table", "a vrf link needs a table (its routing table)");
      d.vrf_table = f.table("table");
      break;
    default: break;
  }
  read_changes(f, l);
  l.txqueuelen = f.uint("txqueuelen", 0, 0xFFFFFFFF);
  l.hairpin = f.boolean("hairpin");
  if (l.hairpin && l.master.empty()) f.fail("hairpin", "hairpin is a bridge port's setting: give the link a master bridge");
  l.up = f.boolean("up").value_or(true);
  out.push_back(std::move(l));
}

nlohmann::ordered_json KindOps<Link>::template_form(const Link& l) {
  nlohmann::ordered_json j;
  j["name"] = l.name;
  if (l.kind != LinkKind::Veth) j["kind"] = link_kind_name(l.kind);
  if (l.kind == LinkKind::Existing) {
    if (l.mtu) j["mtu"] = *l.mtu;
    if (l.mac) j["mac"] = l.mac->str();
    if (!l.master.empty()) j["master"] = l.master;
    if (l.promisc) j["promisc"] = *l.promisc;
    if (l.allmulti) j["allmulti"] = *l.allmulti;
    return j;
  }
  if (l.kind == LinkKind::Veth) j["peer"] = nlohmann::ordered_json{{"name", l.peer_name}, {"scope", l.peer_scope}};
  if (l.kind == LinkKind::HostDevice) j["device"] = l.device;
  if (!l.parent.empty()) j["parent"] = nlohmann::ordered_json{{"name", l.parent}, {"scope", l.parent_scope}};
  const LinkKindData& d = l.data;
  if (d.macvlan_mode) j["mode"] = kMacvlanModes.name(*d.macvlan_mode);
  if (d.ipvlan_mode) j["mode"] = kIpvlanModes.name(*d.ipvlan_mode);
  if (d.ipvlan_flag) j["flag"] = kIpvlanFlags.name(*d.ipvlan_flag);
  if (d.vlan_id) j["id"] = *d.vlan_id;
  if (d.vlan_protocol) j["protocol"] = kVlanProtocols.name(*d.vlan_protocol);
  if (d.vrf_table) j["table"] = *d.vrf_table;
  if (d.vni) j["vni"] = *d.vni;
  if (d.local) j["local"] = d.local->str();
  if (d.remote) j[is_multicast(*d.remote) ? "group" : "remote"] = d.remote->str();
  if (d.port) j["port"] = *d.port;
  if (l.mtu) j["mtu"] = *l.mtu;
  if (l.txqueuelen) j["txqueuelen"] = *l.txqueuelen;
  if (l.mac) j["mac"] = l.mac->str();
  if (!l.master.empty()) j["master"] = l.master;
  if (l.hairpin) j["hairpin"] = *l.hairpin;
  if (l.promisc) j["promisc"] = *l.promisc;
  if (l.allmulti) j["allmulti"] = *l.allmulti;
  if (!l.up) j["up"] = false;
  return j;
}

}  // namespace topo
