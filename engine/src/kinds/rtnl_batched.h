// Request types for the kinds that go to rtnetlink in batches (addresses, routes; later neighbours): the
// message that makes a change happen, and the interface index it needs.
#pragma once

#include <linux/rtnetlink.h>

#include <cerrno>
#include <string>

#include "kernel/kernel_context.h"
#include "topo/error.h"

namespace topo {

struct RtnlRequest {
  uint16_t type;
  uint16_t flags;
};

// NEW with CREATE|EXCL, DEL, or NEW with CREATE|REPLACE (in place: NLM_F_REPLACE swaps the object with the same
// key, e.g. fib_table_insert / ip6_route_add for routes, inet6_addr_modify for addresses).
inline RtnlRequest rtnl_request(Action action, uint16_t new_type, uint16_t del_type) {
  switch (action) {
    case Action::Create: return {new_type, NLM_F_CREATE | NLM_F_EXCL};
    case Action::Replace: return {new_type, NLM_F_CREATE | NLM_F_REPLACE};
    case Action::Delete: return {del_type, 0};
  }
  return {0, 0};
}

// The index of `dev` in `scope` (0 for none); throws NetlinkError(ENODEV) before anything is sent when missing.
inline uint32_t required_ifindex(KernelContext& k, const std::string& scope, const std::string& dev,
                                 const Change& c) {
  if (dev.empty()) return 0;
  auto index = k.ifindex(scope, dev);
  if (!index) throw NetlinkError(ENODEV, operation_of(c), describe(c.object), "device " + dev + " not found in scope " + scope);
  return static_cast<uint32_t>(*index);
}

}  // namespace topo
