// RTM_*LINK requests and replies, for every link kind topocni creates.
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
  int ifindex{0};      // ifi_index
  std::string name;    // IFLA_IFNAME
  std::string kind;    // IFLA_LINKINFO / IFLA_INFO_KIND, "" for none
  int link{0};         // IFLA_LINK: a veth's peer, or a child's parent (in the namespace IFLA_LINK_NETNSID names)
  bool link_elsewhere{false};  // IFLA_LINK_NETNSID present: `link` is an ifindex of another namespace
  uint32_t mtu{0};     // IFLA_MTU
  uint32_t txqueuelen{0};  // IFLA_TXQLEN
  int master{0};       // IFLA_MASTER, 0 for none
  bool up{false};      // IFF_UP in ifi_flags
  bool promisc{false}; // IFF_PROMISC in ifi_flags (dev_get_flags: the user's setting, not a bridge's count)
  bool allmulti{false};  // IFF_ALLMULTI in ifi_flags (likewise the user's setting)
  std::string alias;   // IFLA_IFALIAS
  std::string mac;     // IFLA_ADDRESS, "aa:bb:cc:dd:ee:ff"
  LinkKindData data;   // IFLA_INFO_DATA of the kinds topocni creates (every field the kernel reports)
  std::optional<bool> hairpin;  // IFLA_INFO_SLAVE_DATA / IFLA_BRPORT_MODE, on a bridge port only
};

std::optional<LinkMsg> decode_link(const nlmsghdr& nlh);

// Get one link by name (IFLA_IFNAME) or, when ifindex != 0, by index. Not a dump.
void encode_get_link(Builder& b, const std::string& name, int ifindex = 0);

// Where a new link's pieces live, as the socket that sends the request sees them.
struct LinkPlacement {
  int parent_ifindex{0};   // IFLA_LINK (0: none), an ifindex in the sending socket's namespace
  int netns_fd{-1};        // IFLA_NET_NS_FD: create the link in that namespace (-1: the socket's own)
  int peer_netns_fd{-1};   // a veth's VETH_INFO_PEER / IFLA_NET_NS_FD (-1: the link's namespace)
};

// One RTM_NEWLINK that creates `link` with its kind data, mtu, txqueuelen and MAC. Attribute order is
// iproute2's (`ip link add`), so the bytes can be compared with what it sends. IFF_UP is set when the link
// should be up: on a veth this end only, since veth_newlink configures the peer before the two ends are linked
// and opening the peer would fail with ENOTCONN; bring it up with encode_link_set afterwards. The alias,
// master, promisc and hairpin are set afterwards as well: rtnl_newlink's create path ignores IFLA_IFALIAS.
void encode_link_create(Builder& b, const Link& link, const LinkPlacement& where);

// What a change in place (no NLM_F_CREATE) sets; each only when given.
struct LinkSettings {
  std::optional<uint32_t> mtu;
  std::optional<uint32_t> txqueuelen;
  std::optional<MacAddress> mac;
  std::optional<int> master;        // IFLA_MASTER: an ifindex, 0 to leave the master
  std::optional<bool> up;
  std::optional<bool> promisc;
  std::optional<bool> allmulti;
  const std::string* alias{nullptr};
  const std::string* name{nullptr};  // IFLA_IFNAME: a rename (the link must be down, or come up in this request)
  // IFLA_NET_NS_FD: move the link to that namespace (-1: stay). do_setlink moves it first, under `name` when
  // given, and applies the rest there: a move, its new name and the mark are one request.
  int netns_fd{-1};
  // IFLA_NEW_IFINDEX, with netns_fd: the ifindex to take there (0: the kernel keeps the current one when it is
  // free, else picks one). Kernels before 6.7 ignore it.
  int new_ifindex{0};
  bool empty() const {
    return !mtu && !txqueuelen && !mac && !master && !up && !promisc && !allmulti && !alias && !name && netns_fd < 0;
  }
};
void encode_link_set(Builder& b, int ifindex, const LinkSettings& s);

// A bridge port's hairpin mode (IFLA_BRPORT_MODE in IFLA_INFO_SLAVE_DATA). The port must be enslaved already:
// rtnl_newlink picks the slave policy from the master the link has when the request arrives.
void encode_bridge_port_set(Builder& b, int ifindex, bool hairpin);

void encode_link_delete(Builder& b, int ifindex);

}  // namespace topo::netlink
