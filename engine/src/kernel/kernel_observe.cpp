// Kernel::observe: filtered reads only (one link by name, one interface's addresses, one table [and
// interface] of routes, one family of rules, named sysctl files, our own nftables table), so the cost follows
// the spec, not the size of the machine's state.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>

#include "kernel/kernel_impl.h"
#include "kinds/address/address_codec.h"
#include "kinds/route/route_codec.h"
#include "kinds/rule/rule_codec.h"
#include "kernel/nft/nat_table.h"
#include "kinds/sysctl/sysctl_io.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo {

namespace {

Link link_from(const netlink::LinkMsg& m, const std::string& scope) {
  Link l;
  l.scope = scope;
  l.name = m.name;
  l.kind = m.kind == "veth" ? LinkKind::Veth : LinkKind::Existing;
  l.mtu = m.mtu;
  l.up = m.up;
  l.alias = m.alias;
  l.owned = m.alias.starts_with(kAliasPrefix);
  return l;
}

// Two veth ends are each other's peer when each one's IFLA_LINK is the other's ifindex (veth_get_iflink).
bool are_peers(const netlink::LinkMsg& a, const netlink::LinkMsg& b) {
  return a.kind == "veth" && b.kind == "veth" && a.link == b.ifindex && b.link == a.ifindex;
}

// What the kernel keeps of a route's key: IPv6 stores metric 0 as 1024.
auto route_key(const Route& r) {
  return std::make_tuple(r.scope, r.family(), r.table, r.dst, r.tos,
                         netlink::effective_metric(r.family(), r.metric));
}

// What the kernel keeps of a rule's key: a fwmark without a mask gets mask 0xffffffff.
auto rule_key(const Rule& r) {
  return std::make_tuple(r.scope, r.family, r.priority, r.from, r.to, r.iif, r.oif, r.fwmark,
                         netlink::effective_fwmask(r));
}

}  // namespace

State Kernel::observe(const State& interest) { return impl_->observe(interest); }

State Kernel::Impl::observe(const State& interest) {
  std::map<std::string, bool> now;
  for (const auto& [scope, path] : scopes) now[scope] = netns_path_exists(path);
  available = std::move(now);
  struct Forget {
    std::optional<std::map<std::string, bool>>& a;
    ~Forget() { a.reset(); }
  } forget{available};
  State out;
  observe_links(interest, out);
  observe_sysctls(interest, out);
  observe_addresses(interest, out);
  observe_routes(interest, out);
  observe_rules(interest, out);
  observe_nat(interest, out);
  return out;
}

void Kernel::Impl::observe_links(const State& interest, State& out) {
  std::set<std::pair<std::string, std::string>> emitted;
  auto emit = [&](Link l) {
    if (emitted.emplace(l.scope, l.name).second) out.links.push_back(std::move(l));
  };
  for (const Link& want : interest.links) {
    if (!has_scope(want.scope)) continue;
    auto self = get_link(want.scope, want.name);
    bool veth = want.kind == LinkKind::Veth && !want.peer_name.empty();
    const std::string& peer_scope = want.peer_scope.empty() ? want.scope : want.peer_scope;
    std::optional<netlink::LinkMsg> peer;
    if (veth && has_scope(peer_scope)) peer = get_link(peer_scope, want.peer_name);

    if (!self) {
      // Only the other end exists (or something else has its name): report it as its own link.
      if (peer) emit(link_from(*peer, peer_scope));
      continue;
    }
    Link got = link_from(*self, want.scope);
    // Without an mtu in the spec the kernel's value is not ours to compare.
    if (!want.mtu) got.mtu.reset();
    if (peer && are_peers(*self, *peer)) {
      got.peer_scope = want.peer_scope;
      got.peer_name = want.peer_name;
    } else if (peer) {
      // The peer name is taken by a link that is not this one's peer: the diff reports the conflict.
      emit(link_from(*peer, peer_scope));
    }
    emit(std::move(got));
  }
}

void Kernel::Impl::observe_addresses(const State& interest, State& out) {
  // (scope, dev) → families asked about, and the keys wanted.
  std::map<std::pair<std::string, std::string>, std::set<Family>> queries;
  std::map<std::tuple<std::string, std::string, IpPrefix>, const Address*> wanted;
  for (const Address& a : interest.addresses) {
    if (!has_scope(a.scope)) continue;
    queries[{a.scope, a.dev}].insert(a.local.family());
    wanted.emplace(a.key(), &a);
  }
  for (const auto& [where, families] : queries) {
    const auto& [scope, dev] = where;
    auto index = ifindex(scope, dev);
    if (!index) continue;  // no device, no addresses
    for (Family family : families) {
      netlink::Message m(RTM_GETADDR, NLM_F_DUMP);
      netlink::encode_address_dump(m.builder(), family, *index);
      std::vector<Address> found;
      auto ack = socket(scope).dump(
          m.msg(),
          [&](const nlmsghdr& nlh) {
            auto msg = netlink::decode_address(nlh);
            if (!msg || msg->ifindex != *index) return;
            Address a = msg->address;
            a.scope = scope;
            a.dev = dev;
            if (wanted.count(a.key())) found.push_back(std::move(a));
          },
          [&] { found.clear(); });
      if (ack.err == ENODEV) {  // the device went away since we looked it up
        forget_links(scope);
        break;
      }
      if (!ack.ok()) throw NetlinkError(ack.err, "list addresses", scope + " dev " + dev, ack.ext_ack);
      out.addresses.insert(out.addresses.end(), found.begin(), found.end());
    }
  }
}

void Kernel::Impl::observe_routes(const State& interest, State& out) {
  // One dump per (scope, family, table, dev); dev "" means the whole table. Routes we may take over from
  // someone else, and routes in our own tables, are looked for in the whole table: the route holding the key
  // may leave through another device.
  std::set<std::tuple<std::string, Family, uint32_t, std::string>> queries;
  std::map<decltype(route_key(Route{})), const Route*> wanted;
  for (const Route& r : interest.routes) {
    if (!has_scope(r.scope)) continue;
    bool whole_table = r.takeover || r.absent || (r.table != kTableMain && r.table != kTableLocal) || r.dev.empty();
    queries.emplace(r.scope, r.family(), r.table, whole_table ? "" : r.dev);
    wanted.emplace(route_key(r), &r);
  }
  std::set<decltype(route_key(Route{}))> emitted;
  for (const auto& [scope, family, table, dev] : queries) {
    uint32_t oif = 0;
    if (!dev.empty()) {
      auto index = ifindex(scope, dev);
      if (!index) continue;  // the kernel would refuse the filter (ENODEV); no device, no routes through it
      oif = static_cast<uint32_t>(*index);
    }
    netlink::Message m(RTM_GETROUTE, NLM_F_DUMP);
    netlink::encode_route_dump(m.builder(), family, table, oif);
    std::vector<netlink::RouteMsg> found;
    auto ack = socket(scope).dump(
        m.msg(),
        [&](const nlmsghdr& nlh) {
          auto msg = netlink::decode_route(nlh);
          if (!msg || msg->cloned) return;  // cache entries are not FIB routes
          msg->route.scope = scope;
          if (wanted.count(route_key(msg->route))) found.push_back(std::move(*msg));
        },
        [&] { found.clear(); });
    if (ack.err == ENOENT) continue;  // "FIB table does not exist": no route in it
    if (ack.err == ENODEV) {          // the device went away since we looked it up
      forget_links(scope);
      continue;
    }
    if (!ack.ok())
      throw NetlinkError(ack.err, "list routes",
                         scope + " table " + std::to_string(table) + (dev.empty() ? "" : " dev " + dev),
                         ack.ext_ack);
    for (auto& msg : found) {
      auto key = route_key(msg.route);
      if (!emitted.insert(key).second) continue;
      const Route& want = *wanted.at(key);
      Route r = std::move(msg.route);
      if (msg.oif) r.dev = ifname(scope, static_cast<int>(msg.oif)).value_or("if" + std::to_string(msg.oif));
      // Report in the spelling we were asked in, so equal means equal: the metric (IPv6 0 vs 1024) and, for
      // IPv6, the scope, which the kernel does not keep (rt6_fill_node always says RT_SCOPE_UNIVERSE).
      r.metric = want.metric;
      if (r.family() == Family::V6) r.route_scope = want.route_scope;
      out.routes.push_back(std::move(r));
    }
  }
}

void Kernel::Impl::observe_rules(const State& interest, State& out) {
  std::set<std::pair<std::string, Family>> queries;
  std::map<decltype(rule_key(Rule{})), const Rule*> wanted;
  for (const Rule& r : interest.rules) {
    if (!has_scope(r.scope)) continue;
    queries.emplace(r.scope, r.family);
    wanted.emplace(rule_key(r), &r);
  }
  for (const auto& [scope, family] : queries) {
    netlink::Message m(RTM_GETRULE, NLM_F_DUMP);
    netlink::encode_rule_dump(m.builder(), family);
    std::vector<Rule> found;
    auto ack = socket(scope).dump(
        m.msg(),
        [&](const nlmsghdr& nlh) {
          auto msg = netlink::decode_rule(nlh);
          if (!msg) return;
          msg->rule.scope = scope;
          auto it = wanted.find(rule_key(msg->rule));
          if (it == wanted.end()) return;
          msg->rule.fwmask = it->second->fwmask;  // the spelling we were asked in (see rule_key)
          found.push_back(std::move(msg->rule));
        },
        [&] { found.clear(); });
    if (!ack.ok())
      throw NetlinkError(ack.err, "list rules", scope + " " + std::string(family_name(family)), ack.ext_ack);
    out.rules.insert(out.rules.end(), found.begin(), found.end());
  }
}

void Kernel::Impl::observe_sysctls(const State& interest, State& out) {
  std::map<std::string, std::vector<const Sysctl*>> by_scope;
  for (const Sysctl& s : interest.sysctls)
    if (has_scope(s.scope)) by_scope[s.scope].push_back(&s);
  for (const auto& [scope, list] : by_scope) {
    // /proc/sys/net is the namespace of whoever opens the file.
    NetnsGuard in(path(scope));
    sysctl::Files& files = sysctls(scope);
    for (const Sysctl* s : list) {
      auto value = files.read(s->name);
      if (!value) continue;  // e.g. the interface is not there
      out.sysctls.push_back(Sysctl{scope, s->name, *value, std::nullopt});
    }
  }
}

void Kernel::Impl::observe_nat(const State& interest, State& out) {
  std::map<std::string, std::set<std::string>> owners;
  for (const NatEntry& n : interest.nat)
    if (has_scope(n.scope)) owners[n.scope].insert(n.owner);
  for (const auto& [scope, set] : owners) {
    NetnsGuard in(path(scope));
    auto found = nft::observe(nft_context(scope), scope, set);
    out.nat.insert(out.nat.end(), found.begin(), found.end());
  }
}

}  // namespace topo
