#include "kinds/link/link_codec.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstring>

namespace topo::netlink {

namespace {

std::string nul_string(const nlattr* attr) {
  auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(attr)));
}

std::optional<uint32_t> u32_of(const nlattr* a) {
  if (mnl_attr_validate(a, MNL_TYPE_U32) != 0) return std::nullopt;
  return mnl_attr_get_u32(a);
}
std::optional<uint16_t> u16_of(const nlattr* a) {
  if (mnl_attr_validate(a, MNL_TYPE_U16) != 0) return std::nullopt;
  return mnl_attr_get_u16(a);
}

std::optional<IpAddress> ip_of(const nlattr* a, Family f) {
  IpAddress ip;
  ip.family = f;
  if (mnl_attr_get_payload_len(a) != ip.size()) return std::nullopt;
  std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), ip.size());
  return ip;
}

// An all-zero address is how the kernel reports "none" for a vxlan's local and group.
std::optional<IpAddress> unless_zero(std::optional<IpAddress> ip) {
  if (!ip) return ip;
  for (size_t i = 0; i < ip->size(); ++i)
    if (ip->bytes[i]) return ip;
  return std::nullopt;
}

void decode_kind_data(const nlattr& data, const std::string& kind, LinkMsg& out) {
  LinkKindData& d = out.data;
  for_each_nested(data, [&](const nlattr& a) {
    const nlattr* attr = &a;
    uint16_t type = mnl_attr_get_type(attr);
    if (kind == "macvlan" || kind == "macvtap") {
      if (type == IFLA_MACVLAN_MODE)
        if (auto v = u32_of(attr)) d.macvlan_mode = static_cast<MacvlanMode>(*v);
    } else if (kind == "ipvlan") {
      if (type == IFLA_IPVLAN_MODE)
        if (auto v = u16_of(attr)) d.ipvlan_mode = static_cast<IpvlanMode>(*v);
      if (type == IFLA_IPVLAN_FLAGS)
        if (auto v = u16_of(attr)) d.ipvlan_flag = static_cast<IpvlanFlag>(*v & 3);  // IPVLAN_F_PRIVATE|VEPA
    } else if (kind == "vlan") {
      if (type == IFLA_VLAN_ID)
        if (auto v = u16_of(attr)) d.vlan_id = *v;
      if (type == IFLA_VLAN_PROTOCOL)
        if (auto v = u16_of(attr)) d.vlan_protocol = static_cast<VlanProtocol>(ntohs(*v));
    } else if (kind == "vrf") {
      if (type == IFLA_VRF_TABLE) d.vrf_table = u32_of(attr);
    } else if (kind == "vxlan") {
      switch (type) {
        case IFLA_VXLAN_ID: d.vni = u32_of(attr); break;
        case IFLA_VXLAN_LINK: out.link = static_cast<int>(u32_of(attr).value_or(0)); break;  // its device
        case IFLA_VXLAN_LOCAL: d.local = unless_zero(ip_of(attr, Family::V4)); break;
        case IFLA_VXLAN_LOCAL6: d.local = unless_zero(ip_of(attr, Family::V6)); break;
        case IFLA_VXLAN_GROUP: d.remote = unless_zero(ip_of(attr, Family::V4)); break;
        case IFLA_VXLAN_GROUP6: d.remote = unless_zero(ip_of(attr, Family::V6)); break;
        case IFLA_VXLAN_PORT:
          if (auto v = u16_of(attr)) d.port = ntohs(*v);
          break;
        default: break;
      }
    }
  });
}

void decode_linkinfo(const nlattr& info, LinkMsg& out) {
  const nlattr* data = nullptr;
  const nlattr* slave_data = nullptr;
  std::string slave_kind;
  for_each_nested(info, [&](const nlattr& a) {
    const nlattr* attr = &a;
    switch (mnl_attr_get_type(attr)) {
      case IFLA_INFO_KIND:
        if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) out.kind = nul_string(attr);
        break;
      case IFLA_INFO_SLAVE_KIND:
        if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) slave_kind = nul_string(attr);
        break;
      case IFLA_INFO_DATA:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0) data = attr;
        break;
      case IFLA_INFO_SLAVE_DATA:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0) slave_data = attr;
        break;
      default: break;
    }
  });
  // IFLA_INFO_KIND comes first in what the kernel sends, but nothing says it must: decode the data after.
  if (data) decode_kind_data(*data, out.kind, out);
  if (slave_data && slave_kind == "bridge") {
    for_each_nested(*slave_data, [&](const nlattr& a) {
      if (mnl_attr_get_type(&a) == IFLA_BRPORT_MODE && mnl_attr_validate(&a, MNL_TYPE_U8) == 0)
        out.hairpin = mnl_attr_get_u8(&a) != 0;
    });
  }
}

void put_ifinfo(Builder& b, int ifindex, unsigned change, unsigned flags) {
  auto& ifi = b.header<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  ifi.ifi_change = change;
  ifi.ifi_flags = flags;
}

void put_mac(Builder& b, const MacAddress& mac) { b.put(IFLA_ADDRESS, mac.bytes.data(), mac.bytes.size()); }

void put_u16(Builder& b, uint16_t type, uint16_t v) { b.put(type, &v, sizeof v); }

void put_ip(Builder& b, uint16_t v4, uint16_t v6, const IpAddress& ip) {
  b.put(ip.family == Family::V4 ? v4 : v6, ip.bytes.data(), ip.size());
}

// IFLA_INFO_DATA, in iproute2's attribute order.
void put_kind_data(Builder& b, const Link& l, const LinkPlacement& where) {
  const LinkKindData& d = l.data;
  switch (l.kind) {
    case LinkKind::Veth: {
      auto data = b.nest(IFLA_INFO_DATA);
      auto peer = b.nest(VETH_INFO_PEER);
      // veth_newlink reads an ifinfomsg at the start of VETH_INFO_PEER, then the peer's own attributes. Its
      // flags stay 0: see the header about IFF_UP.
      put_ifinfo(b, 0, 0, 0);
      b.put_str(IFLA_IFNAME, l.peer_name);
      if (where.peer_netns_fd >= 0) b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(where.peer_netns_fd));
      if (l.mtu) b.put_u32(IFLA_MTU, *l.mtu);
      return;
    }
    case LinkKind::Macvlan: {
      if (!d.macvlan_mode) return;
      auto data = b.nest(IFLA_INFO_DATA);
      b.put_u32(IFLA_MACVLAN_MODE, static_cast<uint32_t>(*d.macvlan_mode));
      return;
    }
    case LinkKind::Ipvlan: {
      // iproute2 always sends both (mode l3 and flags 0 unless told otherwise), as ipvlan_nl_newlink's
      // defaults are.
      auto data = b.nest(IFLA_INFO_DATA);
      put_u16(b, IFLA_IPVLAN_MODE, static_cast<uint16_t>(d.ipvlan_mode.value_or(IpvlanMode::L3)));
      put_u16(b, IFLA_IPVLAN_FLAGS, static_cast<uint16_t>(d.ipvlan_flag.value_or(IpvlanFlag::Bridge)));
      return;
    }
    case LinkKind::Vlan: {
      auto data = b.nest(IFLA_INFO_DATA);
      if (d.vlan_protocol) put_u16(b, IFLA_VLAN_PROTOCOL, htons(static_cast<uint16_t>(*d.vlan_protocol)));
      put_u16(b, IFLA_VLAN_ID, d.vlan_id.value_or(0));
      return;
    }
    case LinkKind::Vrf: {
      auto data = b.nest(IFLA_INFO_DATA);
      b.put_u32(IFLA_VRF_TABLE, d.vrf_table.value_or(0));
      return;
    }
    case LinkKind::Vxlan: {
      auto data = b.nest(IFLA_INFO_DATA);
      if (where.parent_ifindex) b.put_u32(IFLA_VXLAN_LINK, static_cast<uint32_t>(where.parent_ifindex));
      b.put_u32(IFLA_VXLAN_ID, d.vni.value_or(0));
      if (d.local) put_ip(b, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, *d.local);
      if (d.remote) put_ip(b, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *d.remote);
      if (d.port) put_u16(b, IFLA_VXLAN_PORT, htons(*d.port));
      return;
    }
    case LinkKind::Bridge:
    case LinkKind::Dummy:
    case LinkKind::Existing:
    case LinkKind::HostDevice: return;  // no kind data (host-device and existing links are never created)
  }
}

}  // namespace

std::optional<LinkMsg> decode_link(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(&nlh) < sizeof(ifinfomsg))
    return std::nullopt;
  auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(&nlh));
  LinkMsg out;
  out.ifindex = ifi->ifi_index;
  out.up = ifi->ifi_flags & IFF_UP;
  out.promisc = ifi->ifi_flags & IFF_PROMISC;
  out.allmulti = ifi->ifi_flags & IFF_ALLMULTI;
  for_each_attr(nlh, sizeof(ifinfomsg), [&](const nlattr& a) {
    const nlattr* attr = &a;
    switch (mnl_attr_get_type(attr)) {  // anything else is skipped
      case IFLA_IFNAME: out.name = nul_string(attr); break;
      case IFLA_IFALIAS: out.alias = nul_string(attr); break;
      case IFLA_MTU: out.mtu = u32_of(attr).value_or(0); break;
      case IFLA_TXQLEN: out.txqueuelen = u32_of(attr).value_or(0); break;
      case IFLA_MASTER: out.master = static_cast<int>(u32_of(attr).value_or(0)); break;
      case IFLA_LINK: out.link = static_cast<int>(u32_of(attr).value_or(0)); break;
      case IFLA_LINK_NETNSID: out.link_elsewhere = true; break;
      case IFLA_ADDRESS: {
        auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
        for (uint16_t i = 0; i < mnl_attr_get_payload_len(attr); ++i)
          out.mac += fmt::format("{}{:02x}", i ? ":" : "", p[i]);
        break;
      }
      case IFLA_LINKINFO:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0) decode_linkinfo(a, out);
        break;
      default: break;
    }
  });
  return out;
}

void encode_get_link(Builder& b, const std::string& name, int ifindex) {
  put_ifinfo(b, ifindex, 0, 0);
  if (ifindex == 0) b.put_str(IFLA_IFNAME, name);
  // Statistics are the bulk of a link reply and we never read them.
  b.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
}

void encode_link_create(Builder& b, const Link& l, const LinkPlacement& where) {
  if (l.up)
    put_ifinfo(b, 0, IFF_UP, IFF_UP);
  else
    put_ifinfo(b, 0, 0, 0);  // a new link is down
  // vxlan names its device inside its own data (IFLA_VXLAN_LINK), the other children with IFLA_LINK.
  if (where.parent_ifindex && l.kind != LinkKind::Vxlan) b.put_u32(IFLA_LINK, static_cast<uint32_t>(where.parent_ifindex));
  b.put_str(IFLA_IFNAME, l.name);
  if (l.mtu) b.put_u32(IFLA_MTU, *l.mtu);
  if (l.txqueuelen) b.put_u32(IFLA_TXQLEN, *l.txqueuelen);
  if (l.mac) put_mac(b, *l.mac);
  if (where.netns_fd >= 0) b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(where.netns_fd));
  auto info = b.nest(IFLA_LINKINFO);
  // Without a NUL, as iproute2 sends it (IFLA_INFO_KIND is NLA_STRING: the kernel takes either).
  std::string_view kind = link_kind_name(l.kind);
  b.put(IFLA_INFO_KIND, kind.data(), kind.size());
  put_kind_data(b, l, where);
}

void encode_link_set(Builder& b, int ifindex, const LinkSettings& s) {
  unsigned change = 0, flags = 0;
  if (s.up) {
    change |= IFF_UP;
    if (*s.up) flags |= IFF_UP;
  }
  if (s.promisc) {
    change |= IFF_PROMISC;
    if (*s.promisc) flags |= IFF_PROMISC;
  }
  // dev_change_flags: IFF_ALLMULTI in ifi_change sets or clears the user's allmulti (dev_set_allmulti).
  if (s.allmulti) {
    change |= IFF_ALLMULTI;
    if (*s.allmulti) flags |= IFF_ALLMULTI;
  }
  put_ifinfo(b, ifindex, change, flags);
  // iproute2's order for `ip link set DEV netns NS name NAME`.
  if (s.netns_fd >= 0) b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(s.netns_fd));
  if (s.netns_fd >= 0 && s.new_ifindex > 0) b.put_u32(IFLA_NEW_IFINDEX, static_cast<uint32_t>(s.new_ifindex));
  // do_setlink renames before it changes the flags: a link created down may be renamed and brought up at once.
  if (s.name) b.put_str(IFLA_IFNAME, *s.name);
  if (s.mtu) b.put_u32(IFLA_MTU, *s.mtu);
  if (s.txqueuelen) b.put_u32(IFLA_TXQLEN, *s.txqueuelen);
  if (s.mac) put_mac(b, *s.mac);
  if (s.master) b.put_u32(IFLA_MASTER, static_cast<uint32_t>(*s.master));
  // Without the NUL: a zero-length IFLA_IFALIAS clears the alias (dev_set_alias with len 0).
  if (s.alias) b.put(IFLA_IFALIAS, s.alias->data(), s.alias->size());
}

void encode_bridge_port_set(Builder& b, int ifindex, bool hairpin) {
  put_ifinfo(b, ifindex, 0, 0);
  auto info = b.nest(IFLA_LINKINFO);
  auto data = b.nest(IFLA_INFO_SLAVE_DATA);
  b.put_u8(IFLA_BRPORT_MODE, hairpin ? 1 : 0);
}

void encode_link_delete(Builder& b, int ifindex) { put_ifinfo(b, ifindex, 0, 0); }

}  // namespace topo::netlink
