// Request types for the kinds that go to rtnetlink in batches (addresses, routes; later neighbours): the
// message that makes a change happen, and the interface index it needs.
#pragma once

#include <linux/rtnetlink.h>

#include <cerrno>
#include <string>

#include "kernel/kernel_context.h"
#include "kernel/netlink/batch_run.h"
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

// Runs consecutive changes of kind K (with `scope` and `dev`) through netlink batches: `encode(Builder&, const
// K&, Action, uint32_t ifindex)` writes the body of the NEW or DEL request that makes one change happen.
template <class K, class Encode>
void run_rtnl_changes(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p,
                      uint16_t new_type, uint16_t del_type, Encode encode) {
  netlink::run_batched(k, changes, begin, end, p, [&](netlink::Batch& batch, const Change& c) {
    const K& o = std::get<K>(c.object);
    uint32_t index = required_ifindex(k, o.scope, o.dev, c);
    RtnlRequest req = rtnl_request(c.action, new_type, del_type);
    netlink::Builder b = batch.add(req.type, req.flags);
    try {
      encode(b, o, c.action, index);
    } catch (...) {
      batch.cancel();
      throw;
    }
  });
}

}  // namespace topo
