#include "kinds/address/address_codec.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "kernel/netlink/ip_attr.h"
#include "topo/model/scope.h"

namespace topo::netlink {

namespace {
// The IFA_FLAGS a request may set (inet_rtm_newaddr / inet6_rtm_newaddr honour them); the rest are the
// kernel's own state (tentative, permanent, deprecated...).
constexpr uint32_t kSettableFlags = IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_HOMEADDRESS | IFA_F_MCAUTOJOIN;

std::string nul_string(const nlattr* attr) {
  auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(attr)));
}
}  // namespace

std::optional<AddressMsg> decode_address(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(&nlh) < sizeof(ifaddrmsg))
    return std::nullopt;
  auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&nlh));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return std::nullopt;
  Family family = static_cast<Family>(ifa->ifa_family);
  AddressMsg out;
  out.ifindex = static_cast<int>(ifa->ifa_index);
  out.ifa_scope = ifa->ifa_scope;
  out.flags = ifa->ifa_flags;
  std::optional<IpAddress> local, address;
  for_each_attr(nlh, sizeof(ifaddrmsg), [&](const nlattr& a) {
    const nlattr* attr = &a;
    switch (mnl_attr_get_type(attr)) {  // anything else is skipped
      case IFA_LOCAL:
        local = address_of(attr, family);
        break;
      case IFA_ADDRESS:
        address = address_of(attr, family);
        break;
      case IFA_FLAGS:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) out.flags = mnl_attr_get_u32(attr);
        break;
      case IFA_PROTO:
        if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0) out.protocol = mnl_attr_get_u8(attr);
        break;
      case IFA_BROADCAST:
        out.address.broadcast = address_of(attr, family);
        break;
      case IFA_LABEL:
        out.address.label = nul_string(attr);
        break;
      default:
        break;
    }
  });
  // The interface's own address is IFA_LOCAL when present: IPv4 always sends it (IFA_ADDRESS is the peer on
  // point-to-point links); IPv6 sends it only for peer addresses and otherwise just IFA_ADDRESS
  // (inet6_fill_ifaddr).
  std::optional<IpAddress> own = local ? local : address;
  if (!own) return std::nullopt;
  out.address.local = IpPrefix{*own, ifa->ifa_prefixlen};
  out.address.nodad = out.flags & IFA_F_NODAD;
  out.address.flags = out.flags & kSettableFlags;
  out.address.protocol = out.protocol;
  out.address.ifa_scope = out.ifa_scope;
  out.address.owned = out.protocol == kOwnerProtocol;
  return out;
}

void encode_address(Builder& b, const Address& a, int ifindex) {
  auto& ifa = b.header<ifaddrmsg>();
  ifa.ifa_family = static_cast<uint8_t>(a.local.family());
  ifa.ifa_prefixlen = a.local.len;
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
  ifa.ifa_scope = a.ifa_scope;  // ours: RT_SCOPE_UNIVERSE, a global address
  uint32_t flags = (a.nodad && a.local.family() == Family::V6 ? IFA_F_NODAD : 0) | (a.flags & kSettableFlags);
  ifa.ifa_flags = static_cast<uint8_t>(flags);
  b.put(IFA_LOCAL, a.local.addr.bytes.data(), a.local.addr.size());
  b.put(IFA_ADDRESS, a.local.addr.bytes.data(), a.local.addr.size());
  b.put_u32(IFA_FLAGS, flags);
  // A foreign address put back keeps its own protocol, broadcast and label (ours have none of the latter).
  if (a.protocol) b.put_u8(IFA_PROTO, a.protocol);
  if (a.broadcast) b.put(IFA_BROADCAST, a.broadcast->bytes.data(), a.broadcast->size());
  if (!a.label.empty()) b.put_str(IFA_LABEL, a.label);
}

void encode_address_dump(Builder& b, Family family, int ifindex) {
  auto& ifa = b.header<ifaddrmsg>();
  ifa.ifa_family = static_cast<uint8_t>(family);
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
}

}  // namespace topo::netlink
