#include "topo/model/state.h"

#include <algorithm>

#include <fmt/format.h>

namespace topo {

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

std::string table_name(uint32_t t) {
  if (t == kTableMain) return "main";
  if (t == kTableLocal) return "local";
  return std::to_string(t);
}

// A host prefix prints as a bare address, as iproute2 does.
std::string prefix_str(const IpPrefix& p) { return p.len == p.addr.max_prefix() ? p.addr.str() : p.str(); }

std::string route_text(const Route& r) {
  std::string s = "route ";
  static const char* kTypes[] = {"", "", "local ", "", "", "", "blackhole ", "unreachable ", "prohibit ",
                                 "throw "};
  auto type = static_cast<size_t>(r.type);
  if (type < std::size(kTypes)) s += kTypes[type];
  s += r.dst.is_default() ? (r.family() == Family::V4 ? std::string("default") : std::string("default (ipv6)"))
                          : prefix_str(r.dst);
  if (r.gateway) s += " via " + r.gateway->str();
  if (!r.dev.empty()) s += " dev " + r.dev;
  if (r.table != kTableMain) s += " table " + table_name(r.table);
  if (r.route_scope == RouteScope::Link) s += " scope link";
  if (r.route_scope == RouteScope::Host) s += " scope host";
  if (r.src) s += " src " + r.src->str();
  if (r.metric) s += fmt::format(" metric {}", r.metric);
  if (r.tos) s += fmt::format(" tos {}", r.tos);
  if (r.onlink) s += " onlink";
  return s;
}

std::string rule_text(const Rule& r) {
  std::string s = fmt::format("rule {}pref {}", r.family == Family::V6 ? "-6 " : "", r.priority);
  if (r.from) s += " from " + prefix_str(*r.from);
  if (r.to) s += " to " + prefix_str(*r.to);
  if (!r.iif.empty()) s += " iif " + r.iif;
  if (!r.oif.empty()) s += " oif " + r.oif;
  if (r.fwmark) s += fmt::format(" fwmark {:#x}", *r.fwmark);
  if (r.fwmask) s += fmt::format("/{:#x}", *r.fwmask);
  return s + " lookup " + table_name(r.table);
}

std::string nat_text(const NatEntry& n) {
  std::string s = "nat";
  const char* ip = n.family == Family::V4 ? "ip" : "ip6";
  auto match = [&](const char* what, bool negate, const std::string& value) {
    s += fmt::format(" {} {}{}", what, negate ? "!= " : "", value);
  };
  if (!n.iif.empty()) match("iifname", n.iif_not, n.iif);
  if (!n.oif.empty()) match("oifname", n.oif_not, n.oif);
  if (n.saddr) match(fmt::format("{} saddr", ip).c_str(), n.saddr_not, prefix_str(*n.saddr));
  if (n.daddr) match(fmt::format("{} daddr", ip).c_str(), n.daddr_not, prefix_str(*n.daddr));
  switch (n.action) {
    case NatAction::Masquerade: s += fmt::format(" {} masquerade", ip); break;
    case NatAction::Snat: s += fmt::format(" snat {} to {}", ip, n.to ? n.to->str() : "?"); break;
    case NatAction::Dnat: s += fmt::format(" dnat {} to {}", ip, n.to ? n.to->str() : "?"); break;
  }
  return s;
}

std::string link_text(const Link& l) {
  if (l.kind == LinkKind::Existing) return "link " + l.name + " (existing)";
  std::string s = fmt::format("link {} type veth peer {} in {}", l.name, l.peer_name.empty() ? "?" : l.peer_name,
                              l.peer_scope.empty() ? "?" : l.peer_scope);
  if (l.mtu) s += fmt::format(" mtu {}", *l.mtu);
  if (!l.up) s += " down";
  return s;
}

}  // namespace

State merge(State a, const State& b) {
  add_missing(a.links, b.links);
  add_missing(a.sysctls, b.sysctls);
  add_missing(a.addresses, b.addresses);
  add_missing(a.routes, b.routes);
  add_missing(a.rules, b.rules);
  add_missing(a.nat, b.nat);
  return a;
}

const std::string& scope_of(const Object& o) {
  return std::visit([](const auto& v) -> const std::string& { return v.scope; }, o);
}

std::string_view kind_name(const Object& o) {
  static constexpr std::string_view kNames[] = {"link", "sysctl", "address", "route", "rule", "nat"};
  return kNames[o.index()];
}

std::string describe(const Object& o) {
  return std::visit(
      Overloaded{
          [](const Link& l) { return link_text(l); },
          [](const Sysctl& s) { return fmt::format("sysctl {} = {}", s.name, s.value); },
          [](const Address& a) {
            return fmt::format("address {} dev {}{}", a.local.str(), a.dev, a.nodad ? " nodad" : "");
          },
          [](const Route& r) { return route_text(r); },
          [](const Rule& r) { return rule_text(r); },
          [](const NatEntry& n) { return nat_text(n); },
      },
      o);
}

}  // namespace topo
