// RTM_*NEIGH requests and replies for static neighbour entries.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

#include "kernel/netlink/socket.h"
#include "topo/model/neighbour.h"

namespace topo::netlink {

struct NeighbourMsg {
  Neighbour neighbour;  // dev left empty: the caller maps `ifindex` to a name in its scope
  int ifindex{0};
  uint16_t state{0};    // ndm_state (NUD_*)
};

// Entries with a link-layer address of 6 bytes only; anything else (a proxy entry, no lladdr yet) is skipped.
std::optional<NeighbourMsg> decode_neighbour(const nlmsghdr& nlh);

// Body of RTM_NEWNEIGH (NUD_PERMANENT, NDA_PROTOCOL = kOwnerProtocol) or RTM_DELNEIGH for `n` on `ifindex`.
void encode_neighbour(Builder& b, const Neighbour& n, int ifindex);

// A dump of one family's entries on one interface: with NETLINK_GET_STRICT_CHK the kernel filters on
// NDA_IFINDEX itself (neigh_valid_dump_req); the header's own ifindex must stay 0 there.
void encode_neighbour_dump(Builder& b, Family family, int ifindex);

}  // namespace topo::netlink
