// The link kind: names of kinds and modes, plan text, journal JSON, ownership and diff policy. The template
// fields are in link_template.cpp, kernel I/O in link_kernel.cpp, the netlink codec in link_codec.cpp.
#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

#include "kinds/link/link_ops.h"
#include "kinds/link/link_words.h"
#include "kinds/text.h"
#include "topo/hash.h"

namespace topo {

using nlohmann::json;

const EnumTable<LinkKind> kLinkKinds = {
    {LinkKind::Veth, "veth"},       {LinkKind::Existing, "existing"}, {LinkKind::Bridge, "bridge"},
    {LinkKind::Macvlan, "macvlan"}, {LinkKind::Ipvlan, "ipvlan"},     {LinkKind::Vlan, "vlan"},
    {LinkKind::Vxlan, "vxlan"},     {LinkKind::Vrf, "vrf"},           {LinkKind::Dummy, "dummy"},
    {LinkKind::HostDevice, "host-device"}};
const EnumTable<MacvlanMode> kMacvlanModes = {{MacvlanMode::Private, "private"},
                                              {MacvlanMode::Vepa, "vepa"},
                                              {MacvlanMode::Bridge, "bridge"},
                                              {MacvlanMode::Passthru, "passthru"}};
const EnumTable<IpvlanMode> kIpvlanModes = {{IpvlanMode::L2, "l2"}, {IpvlanMode::L3, "l3"}, {IpvlanMode::L3s, "l3s"}};
const EnumTable<IpvlanFlag> kIpvlanFlags = {
    {IpvlanFlag::Bridge, "bridge"}, {IpvlanFlag::Private, "private"}, {IpvlanFlag::Vepa, "vepa"}};
const EnumTable<VlanProtocol> kVlanProtocols = {{VlanProtocol::Dot1Q, "802.1Q"}, {VlanProtocol::Dot1AD, "802.1ad"}};

std::string creation_name(const Link& l) {
  return fmt::format("tp{:012x}", fnv1a(l.alias + "/" + l.scope + "/" + l.name) & 0xFFFFFFFFFFFFULL);
}

std::string_view link_kind_name(LinkKind k) { return kLinkKinds.name(k); }

std::optional<LinkKind> link_kind_of(std::string_view kernel_kind) {
  auto k = kLinkKinds.value(kernel_kind);
  if (k == LinkKind::Existing || k == LinkKind::HostDevice) return std::nullopt;  // not kernel kinds
  return k;
}

namespace {

// A piece of JSON that must be one of a table's words (the journal is read strictly: a word this binary does
// not know is an error, never a silent default).
template <class E>
E word_from(const EnumTable<E>& table, const json& j, const char* key) {
  const std::string& w = j.at(key).get_ref<const std::string&>();
  auto v = table.value(w);
  // The journal reader names the key (lifecycle/journal_format.cpp): the message is about the value.
  if (!v) throw std::invalid_argument(fmt::format("invalid value {}", json(w).dump()));
  return *v;
}

template <class E>
void get_word(const json& j, const char* key, const EnumTable<E>& table, std::optional<E>& v) {
  if (j.contains(key) && !j.at(key).is_null()) v = word_from(table, j, key);
}

void get_ip(const json& j, const char* key, std::optional<IpAddress>& v) {
  if (!j.contains(key) || j.at(key).is_null()) return;
  v = IpAddress::parse(j.at(key).get_ref<const std::string&>());
  if (!v) throw std::invalid_argument(fmt::format("invalid value {}: not an IP address", j.at(key).dump()));
}

std::string kind_data_text(const Link& l) {
  const LinkKindData& d = l.data;
  std::string s;
  if (d.macvlan_mode) s += fmt::format(" mode {}", kMacvlanModes.name(*d.macvlan_mode));
  if (d.ipvlan_mode) s += fmt::format(" mode {}", kIpvlanModes.name(*d.ipvlan_mode));
  if (d.ipvlan_flag) s += fmt::format(" {}", kIpvlanFlags.name(*d.ipvlan_flag));
  if (d.vlan_protocol) s += fmt::format(" protocol {}", kVlanProtocols.name(*d.vlan_protocol));
  if (d.vlan_id) s += fmt::format(" id {}", *d.vlan_id);
  if (d.vrf_table) s += fmt::format(" table {}", *d.vrf_table);
  if (d.vni) s += fmt::format(" id {}", *d.vni);
  if (d.local) s += fmt::format(" local {}", d.local->str());
  if (d.remote) s += fmt::format(" {} {}", is_multicast(*d.remote) ? "group" : "remote", d.remote->str());
  if (d.port) s += fmt::format(" dstport {}", *d.port);
  return s;
}

// The settings an item gives, as ip-link(8) words (an existing link never has txqueuelen or hairpin set).
std::string settings_text(const Link& l) {
  std::string s;
  if (l.mtu) s += fmt::format(" mtu {}", *l.mtu);
  if (l.txqueuelen) s += fmt::format(" txqueuelen {}", *l.txqueuelen);
  if (l.mac) s += fmt::format(" address {}", l.mac->str());
  if (!l.master.empty()) s += " master " + l.master;
  if (l.hairpin) s += fmt::format(" hairpin {}", *l.hairpin ? "on" : "off");
  if (l.promisc) s += fmt::format(" promisc {}", *l.promisc ? "on" : "off");
  if (l.allmulti) s += fmt::format(" allmulticast {}", *l.allmulti ? "on" : "off");
  return s;
}

}  // namespace

bool is_multicast(const IpAddress& a) {
  return a.family == Family::V4 ? (a.bytes[0] & 0xf0) == 0xe0 : a.bytes[0] == 0xff;
}

// iproute2's order: `link <name> [link <parent>] type <kind> <kind data> [peer ...] [mtu ...] ...`.
std::string describe(const Link& l) {
  // Of someone else's link, only what the item changes: the rest is not ours to describe.
  if (l.kind == LinkKind::Existing) return "link " + l.name + " (existing)" + settings_text(l);
  std::string s = "link " + l.name;
  if (!l.parent.empty())
    s += l.parent_scope.empty() || l.parent_scope == l.scope ? fmt::format(" link {}", l.parent)
                                                             : fmt::format(" link {} in {}", l.parent, l.parent_scope);
  s += fmt::format(" type {}{}", link_kind_name(l.kind), kind_data_text(l));
  if (l.kind == LinkKind::HostDevice) s += " device " + l.device;
  if (l.kind == LinkKind::Veth)
    s += fmt::format(" peer {} in {}", l.peer_name.empty() ? "?" : l.peer_name, l.peer_scope.empty() ? "?" : l.peer_scope);
  s += settings_text(l);
  if (!l.up) s += " down";
  return s;
}

void to_json(json& j, const Link& v) {
  j = {{"namespace", v.scope}, {"name", v.name}, {"kind", link_kind_name(v.kind)}};
  if (v.kind == LinkKind::Veth) j["peer"] = {{"name", v.peer_name}, {"namespace", v.peer_scope}};
  if (!v.parent.empty()) j["parent"] = {{"name", v.parent}, {"namespace", v.parent_scope}};
  put_optional(j, "mtu", v.mtu);
  put_optional(j, "txqueuelen", v.txqueuelen);
  if (v.mac) j["mac"] = v.mac->str();
  if (!v.master.empty()) j["master"] = v.master;
  if (!v.up) j["up"] = false;
  put_optional(j, "promisc", v.promisc);
  put_optional(j, "allmulti", v.allmulti);
  put_optional(j, "hairpin", v.hairpin);
  const LinkKindData& d = v.data;
  if (d.macvlan_mode) j["mode"] = kMacvlanModes.name(*d.macvlan_mode);
  if (d.ipvlan_mode) j["mode"] = kIpvlanModes.name(*d.ipvlan_mode);
  if (d.ipvlan_flag) j["flag"] = kIpvlanFlags.name(*d.ipvlan_flag);
  put_optional(j, "id", d.vlan_id);
  if (d.vlan_protocol) j["protocol"] = kVlanProtocols.name(*d.vlan_protocol);
  put_optional(j, "table", d.vrf_table);
  put_optional(j, "vni", d.vni);
  if (d.local) j["local"] = d.local->str();
  if (d.remote) j["remote"] = d.remote->str();
  put_optional(j, "port", d.port);
  if (!v.alias.empty()) j["alias"] = v.alias;
  if (!v.device.empty()) j["device"] = v.device;
  if (const auto& o = v.origin) {
    j["origin"] = {{"ifindex", o->ifindex}, {"alias", o->alias}, {"mtu", o->mtu}, {"up", o->up}};
    if (o->mac) j["origin"]["mac"] = o->mac->str();
    put_optional(j["origin"], "promisc", o->promisc);
    put_optional(j["origin"], "allmulti", o->allmulti);
    put_optional(j["origin"], "master", o->master);
  }
}

void from_json(const json& j, Link& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "name", v.name);
  v.kind = j.contains("kind") ? word_from(kLinkKinds, j, "kind") : LinkKind::Veth;
  if (auto p = j.find("peer"); p != j.end()) {
    get_field(*p, "name", v.peer_name);
    get_field(*p, "namespace", v.peer_scope);
  }
  if (auto p = j.find("parent"); p != j.end()) {
    get_field(*p, "name", v.parent);
    get_field(*p, "namespace", v.parent_scope);
  }
  get_field(j, "mtu", v.mtu);
  get_field(j, "txqueuelen", v.txqueuelen);
  if (j.contains("mac") && !j.at("mac").is_null()) {
    v.mac = MacAddress::parse(j.at("mac").get_ref<const std::string&>());
    if (!v.mac) throw std::invalid_argument(fmt::format("invalid value {}: not a MAC address", j.at("mac").dump()));
  }
  get_field(j, "master", v.master);
  v.up = j.value("up", true);
  get_field(j, "promisc", v.promisc);
  get_field(j, "allmulti", v.allmulti);
  get_field(j, "hairpin", v.hairpin);
  LinkKindData& d = v.data;
  if (v.kind == LinkKind::Macvlan) get_word(j, "mode", kMacvlanModes, d.macvlan_mode);
  if (v.kind == LinkKind::Ipvlan) get_word(j, "mode", kIpvlanModes, d.ipvlan_mode);
  get_word(j, "flag", kIpvlanFlags, d.ipvlan_flag);
  get_field(j, "id", d.vlan_id);
  get_word(j, "protocol", kVlanProtocols, d.vlan_protocol);
  get_field(j, "table", d.vrf_table);
  get_field(j, "vni", d.vni);
  get_ip(j, "local", d.local);
  get_ip(j, "remote", d.remote);
  get_field(j, "port", d.port);
  get_field(j, "alias", v.alias);
  get_field(j, "device", v.device);
  if (auto o = j.find("origin"); o != j.end() && !o->is_null()) {
    LinkOrigin& origin = v.origin.emplace();
    get_field(*o, "ifindex", origin.ifindex);
    get_field(*o, "alias", origin.alias);
    get_field(*o, "mtu", origin.mtu);
    get_field(*o, "up", origin.up);
    get_field(*o, "promisc", origin.promisc);
    get_field(*o, "allmulti", origin.allmulti);
    get_field(*o, "master", origin.master);
    if (o->contains("mac")) {
      origin.mac = MacAddress::parse(o->at("mac").get_ref<const std::string&>());
      if (!origin.mac) throw std::invalid_argument(fmt::format("invalid value {}: not a MAC address", o->at("mac").dump()));
    }
  }
}

// Every link topocni creates carries IFLA_IFALIAS "topocni:<owner>" (both ends of a veth); an existing link
// is never ours.
void KindOps<Link>::stamp(Link& l, const OwnerMark& mark) {
  if (l.kind != LinkKind::Existing) l.alias = mark.text();
}
bool KindOps<Link>::owned(const Link& observed) { return observed.owned; }
// Ours and this attachment's; or ours without any alias yet (a link whose creation a kill interrupted, vouched
// for by the journal: lifecycle/attachment.cpp), which the replace marks in place.
// An existing link is someone else's by definition: the item may change what it sets on it (the origin is
// journaled for DEL; two attachments changing one link are refused in lifecycle/claims.cpp).
bool KindOps<Link>::may_replace(const Link& want, const Link& seen) {
  if (want.kind == LinkKind::Existing) return seen.kind == LinkKind::Existing;
  return seen.owned && (seen.alias == want.alias || seen.alias.empty());
}

}  // namespace topo
