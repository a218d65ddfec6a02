// RTM_*ROUTE requests and replies.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

#include "kernel/netlink/socket.h"
#include "topo/model/route.h"

namespace topo::netlink {

struct RouteMsg {
  Route route;          // dev left empty: the caller maps `oif` to a name in its scope
  uint32_t oif{0};      // RTA_OIF
  uint8_t protocol{0};  // rtm_protocol
  bool cloned{false};   // RTM_F_CLONED: a cache entry, not a FIB route
};

// Decodes as reported: an IPv6 route asked for with metric 0 comes back with 1024 (IP6_RT_PRIO_USER).
std::optional<RouteMsg> decode_route(const nlmsghdr& nlh);

// The metric the kernel gives the route: IPv6 replaces 0 with 1024 (ip6_route_info_create).
uint32_t effective_metric(Family family, uint32_t metric);

// Body of RTM_NEWROUTE for `r` leaving through `oif` (0 for none), with rtm_protocol = r.protocol (ours,
// unless a foreign route is being put back).
void encode_route(Builder& b, const Route& r, uint32_t oif);

// Body of RTM_DELROUTE: the key fields, the device and the route's protocol (ours for what we delete), so the
// kernel deletes only that route (fib_table_delete / ip6_route_del skip routes of another protocol when one is given).
void encode_route_delete(Builder& b, const Route& r, uint32_t oif);

// A dump of one family's routes in one table, and on one interface when oif != 0: with
// NETLINK_GET_STRICT_CHK the kernel filters on RTA_TABLE and RTA_OIF itself (ip_valid_fib_dump_req).
void encode_route_dump(Builder& b, Family family, uint32_t table, uint32_t oif);

}  // namespace topo::netlink
