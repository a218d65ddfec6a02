// Whole-namespace link, route and rule dumps for diagnostics (see topo/node_scan.h). The lifecycle's
// find_by_marks() dumps the same tables for one alias; this reads every mark, for `topoctl doctor`.
#include "topo/node_scan.h"

#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>

#include "kernel/netlink/socket.h"
#include "kinds/link/link_codec.h"
#include "kinds/route/route_codec.h"
#include "kinds/rule/rule_codec.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo::scan {

namespace {

std::vector<LinkEntry> dump_links(netlink::Socket& socket) {
  netlink::Message m(RTM_GETLINK, NLM_F_DUMP);
  m.builder().header<ifinfomsg>();  // zeroed: every link
  std::vector<LinkEntry> out;
  auto ack = socket.dump(
      m.msg(),
      [&](const nlmsghdr& nlh) {
        if (auto l = netlink::decode_link(nlh)) out.push_back({l->ifindex, l->name, l->kind, l->alias});
      },
      [&] { out.clear(); });
  if (!ack.ok()) throw NetlinkError(ack.err, "list links", "", ack.ext_ack);
  return out;
}

}  // namespace

std::vector<LinkEntry> links() {
  auto socket = netlink::Socket::open();
  return dump_links(socket);
}

Marked marked_routes_and_rules() {
  auto socket = netlink::Socket::open();
  std::map<int, std::string> names;
  for (const auto& l : dump_links(socket)) names[l.ifindex] = l.name;
  Marked out;
  for (Family family : {Family::V4, Family::V6}) {
    // RTA_TABLE 0 with strict checking: no table filter, every table (ip_valid_fib_dump_req, inet_dump_fib).
    netlink::Message rm(RTM_GETROUTE, NLM_F_DUMP);
    netlink::encode_route_dump(rm.builder(), family, 0, 0);
    std::vector<Route> routes;
    auto ack = socket.dump(
        rm.msg(),
        [&](const nlmsghdr& nlh) {
          auto r = netlink::decode_route(nlh);
          if (!r || r->cloned || r->protocol != kOwnerProtocol) return;
          if (r->oif) {
            auto it = names.find(static_cast<int>(r->oif));
            if (it != names.end()) r->route.dev = it->second;
          }
          r->route.owned = true;
          routes.push_back(std::move(r->route));
        },
        [&] { routes.clear(); });
    if (!ack.ok()) throw NetlinkError(ack.err, "list routes", "every table", ack.ext_ack);
    out.routes.insert(out.routes.end(), routes.begin(), routes.end());

    netlink::Message qm(RTM_GETRULE, NLM_F_DUMP);
    netlink::encode_rule_dump(qm.builder(), family);
    std::vector<Rule> rules;
    ack = socket.dump(
        qm.msg(),
        [&](const nlmsghdr& nlh) {
          auto r = netlink::decode_rule(nlh);
          if (!r || r->protocol != kOwnerProtocol) return;
          r->rule.owned = true;
          rules.push_back(std::move(r->rule));
        },
        [&] { rules.clear(); });
    if (!ack.ok()) throw NetlinkError(ack.err, "list rules", "", ack.ext_ack);
    out.rules.insert(out.rules.end(), rules.begin(), rules.end());
  }
  return out;
}

}  // namespace topo::scan
