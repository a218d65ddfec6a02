// RTM_*ADDR requests and replies.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

#include "kernel/netlink/socket.h"
#include "topo/model/address.h"

namespace topo::netlink {

struct AddressMsg {
  Address address;       // dev left empty: the caller maps ifindex to a name in its scope
  int ifindex{0};        // ifa_index
  uint8_t ifa_scope{0};  // ifa_scope: RT_SCOPE_UNIVERSE (0) for global addresses
  uint8_t protocol{0};   // IFA_PROTO
  uint32_t flags{0};     // IFA_FLAGS (ifa_flags when absent)
};

std::optional<AddressMsg> decode_address(const nlmsghdr& nlh);

// Body of RTM_NEWADDR / RTM_DELADDR for `a` on interface `ifindex`, marked IFA_PROTO = kOwnerProtocol.
void encode_address(Builder& b, const Address& a, int ifindex);

// A dump of one family's addresses on one interface: with NETLINK_GET_STRICT_CHK the kernel filters by
// ifa_index itself (inet_valid_dump_ifaddr_req / inet6_valid_dump_ifaddr_req).
void encode_address_dump(Builder& b, Family family, int ifindex);

}  // namespace topo::netlink
