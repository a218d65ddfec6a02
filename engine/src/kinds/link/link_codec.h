// RTM_*LINK requests and replies.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>

#include "kernel/netlink/socket.h"
#include "topo/model/link.h"

namespace topo::netlink {

// What a RTM_NEWLINK reply says about one interface.
struct LinkMsg {
  int ifindex{0};     // ifi_index
  std::string name;   // IFLA_IFNAME
  std::string kind;   // IFLA_LINKINFO / IFLA_INFO_KIND, "" for none
  int link{0};        // IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace)
  uint32_t mtu{0};    // IFLA_MTU
  bool up{false};     // IFF_UP in ifi_flags
  std::string alias;  // IFLA_IFALIAS
  std::string mac;    // IFLA_ADDRESS, "aa:bb:cc:dd:ee:ff"
};

std::optional<LinkMsg> decode_link(const nlmsghdr& nlh);

// Get one link by name (IFLA_IFNAME) or, when ifindex != 0, by index. Not a dump.
void encode_get_link(Builder& b, const std::string& name, int ifindex = 0);

// A veth pair created with one request: this end in the socket's namespace, the peer created directly in the
// namespace `peer_netns_fd` refers to (VETH_INFO_PEER carries its own ifinfomsg and IFLA_NET_NS_FD). IFF_UP
// is set on this end only: veth_newlink configures the peer before the two ends are linked, so opening the
// peer then fails with ENOTCONN (veth_open without a peer). Bring the peer up with encode_link_set
// afterwards.
void encode_veth_create(Builder& b, const Link& link, int peer_netns_fd);

// Changes an existing link in place (no NLM_F_CREATE): mtu, IFF_UP and/or the alias, each only when given.
void encode_link_set(Builder& b, int ifindex, std::optional<uint32_t> mtu, std::optional<bool> up,
                     const std::string* alias);

void encode_link_delete(Builder& b, int ifindex);

}  // namespace topo::netlink
