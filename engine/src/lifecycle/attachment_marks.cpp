#include "lifecycle/attachment_marks.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>

#include "kinds/link/link_codec.h"
#include "kinds/route/route_codec.h"
#include "kinds/rule/rule_codec.h"
#include "kernel/netlink/socket.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo {

namespace {

struct ScopeScan {
  std::map<int, std::string> names;  // every link of the scope, ifindex → name
  std::set<std::string> ours;        // names of the links carrying the alias
};

ScopeScan scan_links(netlink::Socket& socket, const std::string& scope, const std::string& alias, State& out) {
  ScopeScan scan;
  netlink::Message m(RTM_GETLINK, NLM_F_DUMP);
  m.builder().header<ifinfomsg>();  // zeroed: every family, no filter
  std::vector<netlink::LinkMsg> found;
  auto ack = socket.dump(
      m.msg(),
      [&](const nlmsghdr& nlh) {
        if (auto l = netlink::decode_link(nlh)) found.push_back(std::move(*l));
      },
      [&] { found.clear(); });
  if (!ack.ok()) throw NetlinkError(ack.err, "list links", scope, ack.ext_ack);
  for (const auto& l : found) {
    scan.names[l.ifindex] = l.name;
    if (l.kind != "veth" || l.alias != alias) continue;
    scan.ours.insert(l.name);
    Link link;
    link.scope = scope;
    link.name = l.name;
    link.kind = LinkKind::Veth;
    link.alias = l.alias;
    link.owned = true;
    out.of<Link>().push_back(std::move(link));
  }
  return scan;
}

std::vector<netlink::RuleMsg> dump_rules(netlink::Socket& socket, const std::string& scope, Family family) {
  netlink::Message m(RTM_GETRULE, NLM_F_DUMP);
  netlink::encode_rule_dump(m.builder(), family);
  std::vector<netlink::RuleMsg> found;
  auto ack = socket.dump(
      m.msg(),
      [&](const nlmsghdr& nlh) {
        if (auto r = netlink::decode_rule(nlh)) {
          r->rule.scope = scope;
          found.push_back(std::move(*r));
        }
      },
      [&] { found.clear(); });
  if (!ack.ok()) throw NetlinkError(ack.err, "list rules", scope, ack.ext_ack);
  return found;
}

void scan_table(netlink::Socket& socket, const ScopeScan& scan, const std::string& scope, Family family,
                uint32_t table, State& out) {
  netlink::Message m(RTM_GETROUTE, NLM_F_DUMP);
  netlink::encode_route_dump(m.builder(), family, table, 0);
  std::vector<netlink::RouteMsg> found;
  auto ack = socket.dump(
      m.msg(),
      [&](const nlmsghdr& nlh) {
        if (auto r = netlink::decode_route(nlh); r && !r->cloned) found.push_back(std::move(*r));
      },
      [&] { found.clear(); });
  if (ack.err == ENOENT) return;  // the table does not exist: nothing in it
  if (!ack.ok()) throw NetlinkError(ack.err, "list routes", scope + " table " + std::to_string(table), ack.ext_ack);
  for (auto& r : found) {
    if (r.protocol != kOwnerProtocol || r.route.table != table) continue;
    r.route.scope = scope;
    if (r.oif) {
      auto it = scan.names.find(static_cast<int>(r.oif));
      if (it == scan.names.end()) continue;
      r.route.dev = it->second;
    }
    r.route.owned = true;
    out.of<Route>().push_back(std::move(r.route));
  }
}

}  // namespace

State find_by_marks(const ScopeMap& scopes, const std::string& alias,
                    const std::function<bool(const Rule&)>& claimed) {
  State out;
  for (const auto& [scope, path] : scopes) {
    if (!path.empty() && !netns_path_exists(path)) continue;
    NetnsGuard in(path);
    auto socket = netlink::Socket::open();
    ScopeScan scan = scan_links(socket, scope, alias, out);
    std::set<std::string> present;
    for (const auto& [index, name] : scan.names) present.insert(name);
    for (Family family : {Family::V4, Family::V6}) {
      auto rules = dump_rules(socket, scope, family);
      std::set<uint32_t> our_tables, other_tables;
      for (auto& r : rules) {
        bool via_ours = scan.ours.contains(r.rule.iif);
        // A rule whose interface vanished with the pod's namespace (a veth dies with its peer) can only be
        // matched by being ours and orphaned: no link, and no other attachment's journal holds it.
        bool orphan = !r.rule.iif.empty() && !present.contains(r.rule.iif) && !claimed(r.rule);
        if (r.protocol == kOwnerProtocol && (via_ours || orphan)) {
          r.rule.owned = true;
          our_tables.insert(r.rule.table);
          out.of<Rule>().push_back(r.rule);
        } else {
          other_tables.insert(r.rule.table);
        }
      }
      for (uint32_t table : our_tables) {
        // Main, local, default and any table someone else's rule uses are not ours to empty.
        if (table == RT_TABLE_MAIN || table == RT_TABLE_LOCAL || table == RT_TABLE_DEFAULT ||
            table == RT_TABLE_UNSPEC || other_tables.contains(table))
          continue;
        scan_table(socket, scan, scope, family, table, out);
      }
    }
  }
  return out;
}

}  // namespace topo
