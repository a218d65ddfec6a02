#include "kinds/link/link_codec.h"

#include <fmt/format.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstring>

namespace topo::netlink {

namespace {

void decode_linkinfo(const nlattr* info, LinkMsg& out) {
  for_each_nested(*info, [&](const nlattr& a) {
    const nlattr* attr = &a;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
      out.kind.assign(
          static_cast<const char*>(mnl_attr_get_payload(attr)),
          strnlen(static_cast<const char*>(mnl_attr_get_payload(attr)), mnl_attr_get_payload_len(attr)));
  });
}

std::string nul_string(const nlattr* attr) {
  auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(attr)));
}

void put_ifinfo(Builder& b, int ifindex, std::optional<bool> up) {
  auto& ifi = b.header<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  if (up) {
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = *up ? IFF_UP : 0;
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
  for_each_attr(nlh, sizeof(ifinfomsg), [&](const nlattr& a) {
    const nlattr* attr = &a;
    switch (mnl_attr_get_type(attr)) {  // anything else is skipped
      case IFLA_IFNAME:
        out.name = nul_string(attr);
        break;
      case IFLA_IFALIAS:
        out.alias = nul_string(attr);
        break;
      case IFLA_MTU:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) out.mtu = mnl_attr_get_u32(attr);
        break;
      case IFLA_LINK:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) out.link = static_cast<int>(mnl_attr_get_u32(attr));
        break;
      case IFLA_ADDRESS: {
        auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
        for (uint16_t i = 0; i < mnl_attr_get_payload_len(attr); ++i)
          out.mac += fmt::format("{}{:02x}", i ? ":" : "", p[i]);
        break;
      }
      case IFLA_LINKINFO:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0) decode_linkinfo(attr, out);
        break;
      default:
        break;
    }
  });
  return out;
}

void encode_get_link(Builder& b, const std::string& name, int ifindex) {
  put_ifinfo(b, ifindex, std::nullopt);
  if (ifindex == 0) b.put_str(IFLA_IFNAME, name);
  // Statistics are the bulk of a link reply and we never read them.
  b.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
}

void encode_veth_create(Builder& b, const Link& link, int peer_netns_fd) {
  put_ifinfo(b, 0, link.up);
  b.put_str(IFLA_IFNAME, link.name);
  if (link.mtu) b.put_u32(IFLA_MTU, *link.mtu);
  auto info = b.nest(IFLA_LINKINFO);
  b.put_str(IFLA_INFO_KIND, "veth");
  auto data = b.nest(IFLA_INFO_DATA);
  auto peer = b.nest(VETH_INFO_PEER);
  // veth_newlink reads an ifinfomsg at the start of VETH_INFO_PEER, then the peer's own attributes. Its flags
  // stay 0: see the header about IFF_UP.
  put_ifinfo(b, 0, std::nullopt);
  b.put_str(IFLA_IFNAME, link.peer_name);
  b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  if (link.mtu) b.put_u32(IFLA_MTU, *link.mtu);
}

void encode_link_set(Builder& b, int ifindex, std::optional<uint32_t> mtu, std::optional<bool> up,
                     const std::string* alias) {
  put_ifinfo(b, ifindex, up);
  if (mtu) b.put_u32(IFLA_MTU, *mtu);
  // Without the NUL: a zero-length IFLA_IFALIAS clears the alias (dev_set_alias with len 0).
  if (alias) b.put(IFLA_IFALIAS, alias->data(), alias->size());
}

void encode_link_delete(Builder& b, int ifindex) { put_ifinfo(b, ifindex, std::nullopt); }

}  // namespace topo::netlink
