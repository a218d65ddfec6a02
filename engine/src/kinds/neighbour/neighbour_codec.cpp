#include "kinds/neighbour/neighbour_codec.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "kernel/netlink/ip_attr.h"
#include "topo/model/ownership.h"

namespace topo::netlink {

std::optional<NeighbourMsg> decode_neighbour(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(&nlh) < sizeof(ndmsg)) return std::nullopt;
  auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(&nlh));
  if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) return std::nullopt;
  Family family = static_cast<Family>(ndm->ndm_family);
  NeighbourMsg out;
  out.ifindex = ndm->ndm_ifindex;
  out.state = ndm->ndm_state;
  std::optional<IpAddress> dst;
  bool has_lladdr = false;
  uint8_t protocol = 0;
  for_each_attr(nlh, sizeof(ndmsg), [&](const nlattr& a) {
    const nlattr* attr = &a;
    switch (mnl_attr_get_type(attr)) {  // anything else is skipped
      case NDA_DST:
        dst = address_of(attr, family);
        break;
      case NDA_LLADDR:
        if (mnl_attr_get_payload_len(attr) == out.neighbour.lladdr.bytes.size()) {
          std::memcpy(out.neighbour.lladdr.bytes.data(), mnl_attr_get_payload(attr), out.neighbour.lladdr.bytes.size());
          has_lladdr = true;
        }
        break;
      case NDA_PROTOCOL:
        if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0) protocol = mnl_attr_get_u8(attr);
        break;
      default:
        break;
    }
  });
  if (!dst || !has_lladdr) return std::nullopt;
  out.neighbour.address = *dst;
  // Ours only when it is also still the permanent entry we made: the kernel keeps NDA_PROTOCOL across an
  // update by someone else (`ip neigh change` without a protocol).
  out.neighbour.owned = is_owner_protocol(protocol) && (out.state & NUD_PERMANENT);
  out.neighbour.protocol = protocol;
  out.neighbour.learnt = !(out.state & (NUD_PERMANENT | NUD_NOARP));
  return out;
}

void encode_neighbour(Builder& b, const Neighbour& n, int ifindex) {
  auto& ndm = b.header<ndmsg>();
  ndm.ndm_family = static_cast<uint8_t>(n.address.family);
  ndm.ndm_ifindex = ifindex;
  ndm.ndm_state = NUD_PERMANENT;
  b.put(NDA_DST, n.address.bytes.data(), n.address.size());
  b.put(NDA_LLADDR, n.lladdr.bytes.data(), n.lladdr.bytes.size());
  if (n.protocol) b.put_u8(NDA_PROTOCOL, n.protocol);  // a foreign entry put back keeps its own
}

void encode_neighbour_dump(Builder& b, Family family, int ifindex) {
  auto& ndm = b.header<ndmsg>();
  ndm.ndm_family = static_cast<uint8_t>(family);
  b.put_u32(NDA_IFINDEX, static_cast<uint32_t>(ifindex));
}

}  // namespace topo::netlink
