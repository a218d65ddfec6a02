// The route kind's kernel I/O: filtered dumps (one table, and one interface where the key allows it), and
// creates, replaces and deletes in netlink batches.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>

#include "kinds/route/route_codec.h"
#include "kinds/route/route_ops.h"
#include "kinds/rtnl_batched.h"

namespace topo {

namespace {

// What the kernel keeps of a route's key: IPv6 stores metric 0 as 1024.
auto kernel_key(const Route& r) {
  return std::make_tuple(r.scope, r.family(), r.table, r.dst, r.tos, netlink::effective_metric(r.family(), r.metric));
}

}  // namespace

void KindOps<Route>::observe(KernelContext& k, const std::vector<Route>& interest, std::vector<Route>& out) {
  // One dump per (scope, family, table, dev); dev "" means the whole table. Routes we may take over from
  // someone else, and routes in our own tables, are looked for in the whole table: the route holding the key
  // may leave through another device.
  std::set<std::tuple<std::string, Family, uint32_t, std::string>> queries;
  std::map<decltype(kernel_key(Route{})), const Route*> wanted;
  for (const Route& r : interest) {
    if (!k.has_scope(r.scope)) continue;
    bool whole_table = r.takeover || r.absent || (r.table != kTableMain && r.table != kTableLocal) || r.dev.empty();
    queries.emplace(r.scope, r.family(), r.table, whole_table ? "" : r.dev);
    wanted.emplace(kernel_key(r), &r);
  }
  std::set<decltype(kernel_key(Route{}))> emitted;
  for (const auto& [scope, family, table, dev] : queries) {
    uint32_t oif = 0;
    if (!dev.empty()) {
      auto index = k.ifindex(scope, dev);
      if (!index) continue;  // the kernel would refuse the filter (ENODEV); no device, no routes through it
      oif = static_cast<uint32_t>(*index);
    }
    netlink::Message m(RTM_GETROUTE, NLM_F_DUMP);
    netlink::encode_route_dump(m.builder(), family, table, oif);
    std::vector<netlink::RouteMsg> found;
    auto ack = k.socket(scope).dump(
        m.msg(),
        [&](const nlmsghdr& nlh) {
          auto msg = netlink::decode_route(nlh);
          if (!msg || msg->cloned) return;  // cache entries are not FIB routes
          msg->route.scope = scope;
          if (wanted.count(kernel_key(msg->route))) found.push_back(std::move(*msg));
        },
        [&] { found.clear(); });
    if (ack.err == ENOENT) continue;  // "FIB table does not exist": no route in it
    if (ack.err == ENODEV) {          // the device went away since we looked it up
      k.forget_links(scope);
      continue;
    }
    if (!ack.ok())
      throw NetlinkError(ack.err, "list routes",
                         scope + " table " + std::to_string(table) + (dev.empty() ? "" : " dev " + dev), ack.ext_ack);
    for (auto& msg : found) {
      auto key = kernel_key(msg.route);
      if (!emitted.insert(key).second) continue;
      const Route& want = *wanted.at(key);
      Route r = std::move(msg.route);
      if (msg.oif) r.dev = k.ifname(scope, static_cast<int>(msg.oif)).value_or("if" + std::to_string(msg.oif));
      // Report in the spelling we were asked in, so equal means equal: the metric (IPv6 0 vs 1024) and, for
      // IPv6, the scope, which the kernel does not keep (rt6_fill_node always says RT_SCOPE_UNIVERSE).
      r.metric = want.metric;
      if (r.family() == Family::V6) r.route_scope = want.route_scope;
      out.push_back(std::move(r));
    }
  }
}

void KindOps<Route>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                             Progress& p) {
  run_rtnl_changes<Route>(k, changes, begin, end, p, RTM_NEWROUTE, RTM_DELROUTE,
                        [](netlink::Builder& b, const Route& o, Action action, uint32_t index) {
                          if (action == Action::Delete)
                            netlink::encode_route_delete(b, o, index);
                          else
                            netlink::encode_route(b, o, index);
                        });
}

// A route whose device vanished meanwhile went with the device (ENODEV); one DEL deletes without looking for
// it first is simply not there (ESRCH). Both are done, not failed.
bool KindOps<Route>::already_gone(const Change& c, int err) {
  return c.action == Action::Delete && (err == ENODEV || err == ESRCH);
}

}  // namespace topo
