#include "template/objects.h"

#include <fmt/format.h>

#include <cstdint>

#include "template/fields.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo::tmpl {

using nlohmann::json;

namespace {

std::string other_scope(const std::string& scope) {
  return scope == kHostScope ? kContainerScope : kHostScope;
}

// ---- links
// -------------------------------------------------------------------------------------------------

void build_link(Fields& f, const std::string& scope, State& out) {
  Link l;
  l.scope = scope;
  l.name = *f.ifname("name");
  l.kind = f.choice<LinkKind>("kind", {{"veth", LinkKind::Veth}, {"existing", LinkKind::Existing}})
               .value_or(LinkKind::Veth);
  if (l.kind == LinkKind::Existing) {
    // An existing link is only referenced (it must be there), never created or changed.
    for (const char* key : {"peer", "mtu", "up"})
      if (f.has(key))
        f.fail(key, fmt::format("'{}' cannot be set on a link of kind existing: it is never changed", key));
  } else {
    if (!f.has("peer")) f.fail("peer", "a veth link needs a peer: {name: ..., scope: host|container}");
    Fields peer = f.child("peer");
    l.peer_name = *peer.ifname("name");
    l.peer_scope = peer.choice<std::string>("scope", {{"host", kHostScope}, {"container", kContainerScope}})
                       .value_or(other_scope(scope));
    if (l.peer_scope == scope && l.peer_name == l.name)
      peer.fail("name", "a veth's peer in the same scope needs a different name");
    // 68 is the IPv4 minimum (RFC 791) and the veth driver's min_mtu.
    l.mtu = f.uint("mtu", 68, 65535);
    l.up = f.boolean("up").value_or(true);
  }
  out.links.push_back(std::move(l));
}

// ---- addresses
// ---------------------------------------------------------------------------------------------

void build_address(Fields& f, const std::string& scope, State& out) {
  Address a;
  a.scope = scope;
  a.dev = *f.ifname("dev");
  a.local = *f.cidr("address");
  a.nodad = f.boolean("nodad").value_or(false);
  if (a.nodad && a.local.family() != Family::V6) f.fail("nodad", "nodad applies to IPv6 addresses only");
  out.addresses.push_back(std::move(a));
}

// ---- routes
// ------------------------------------------------------------------------------------------------

// `state: absent`: only the route's key (dst, table, metric, tos) says which route must not exist; the diff
// deletes whatever route holds that key, whatever its next hop. Attributes outside the key would look like a
// filter that does not exist, so they are refused.
void build_absent_route(Fields& f, const std::string& scope, State& out) {
  for (const char* key : {"via", "dev", "src", "scope", "type", "onlink", "takeover"})
    if (f.has(key))
      f.fail(key, fmt::format("'{}' has no meaning on a route with state: absent: any route with the same "
                              "dst, table, metric and tos is removed, whatever its '{}'",
                              key, key));
  Route r;
  r.scope = scope;
  r.absent = true;
  const nlohmann::json& dst = f.value("dst");
  if (dst == "default") {
    // No gateway says the family here, so "default" is IPv4 as in ip-route(8); "::/0" is IPv6's.
    r.dst = *IpPrefix::parse("0.0.0.0/0");
  } else {
    r.dst = *f.cidr("dst");
    if (r.dst.network() != r.dst)
      f.fail("dst", fmt::format("{} has host bits set; no route can have it as destination (network() gives {})",
                                r.dst.str(), r.dst.network().str()));
  }
  r.table = f.table("table").value_or(kTableMain);
  r.metric = f.uint("metric", 0, 0xFFFFFFFF).value_or(0);
  r.tos = static_cast<uint8_t>(f.uint("tos", 0, 255).value_or(0));
  out.routes.push_back(std::move(r));
}

void build_route(Fields& f, const std::string& scope, State& out) {
  if (f.choice<bool>("state", {{"present", false}, {"absent", true}}).value_or(false))
    return build_absent_route(f, scope, out);
  Route r;
  r.scope = scope;
  r.gateway = f.ip("via");
  const json& dst = f.value("dst");
  if (dst == "default") {
    // Like ip-route(8): "default" is 0/0 in the family of the gateway, IPv4 without one.
    r.dst = *IpPrefix::parse(r.gateway && r.gateway->family == Family::V6 ? "::/0" : "0.0.0.0/0");
  } else {
    r.dst = *f.cidr("dst");
    if (r.dst.network() != r.dst)
      f.fail("dst",
             fmt::format("{} has host bits set; the kernel refuses it as a route destination (network() "
                         "gives {})",
                         r.dst.str(), r.dst.network().str()));
  }
  if (r.gateway && r.gateway->family != r.family())
    f.fail("via", fmt::format("gateway {} is {} but dst {} is {}", r.gateway->str(),
                              family_name(r.gateway->family), r.dst.str(), family_name(r.family())));
  r.src = f.ip("src");
  if (r.src && r.src->family != r.family())
    f.fail("src", fmt::format("src {} is {} but dst {} is {}", r.src->str(), family_name(r.src->family),
                              r.dst.str(), family_name(r.family())));
  r.dev = f.ifname("dev").value_or("");
  r.table = f.table("table").value_or(kTableMain);
  r.metric = f.uint("metric", 0, 0xFFFFFFFF).value_or(0);
  r.tos = static_cast<uint8_t>(f.uint("tos", 0, 255).value_or(0));
  r.type = f.choice<RouteType>("type", {{"unicast", RouteType::Unicast},
                                        {"local", RouteType::Local},
                                        {"blackhole", RouteType::Blackhole},
                                        {"unreachable", RouteType::Unreachable},
                                        {"prohibit", RouteType::Prohibit},
                                        {"throw", RouteType::Throw}})
               .value_or(RouteType::Unicast);
  // Default scope as ip-route(8) picks it, so a template that omits it gets what `ip route add` would make:
  // host for local routes, link for unicast routes without a gateway, universe otherwise.
  RouteScope fallback = r.type == RouteType::Local                   ? RouteScope::Host
                        : r.type == RouteType::Unicast && !r.gateway ? RouteScope::Link
                                                                     : RouteScope::Universe;
  r.route_scope = f.choice<RouteScope>("scope", {{"universe", RouteScope::Universe},
                                                 {"link", RouteScope::Link},
                                                 {"host", RouteScope::Host}})
                      .value_or(fallback);
  r.onlink = f.boolean("onlink").value_or(false);
  r.takeover = f.boolean("takeover").value_or(false);
  bool forwards = r.type == RouteType::Unicast || r.type == RouteType::Local;
  if (forwards && !r.gateway && r.dev.empty()) f.fail("dev", "a unicast or local route needs a dev or a via");
  if (!forwards && r.gateway)
    f.fail("via", "a blackhole, unreachable, prohibit or throw route has no gateway");
  if (r.onlink && !r.gateway) f.fail("onlink", "onlink applies to routes with a via only");
  out.routes.push_back(std::move(r));
}

// ---- rules
// -------------------------------------------------------------------------------------------------

// "16", 16, "0x10", "0x10/0xff" (ip-rule(8) syntax).
void read_fwmark(Fields& f, Rule& r) {
  const json& v = f.value("fwmark");
  if (v.is_null()) return;
  auto number = [&](const std::string& s) -> std::optional<uint32_t> {
    try {
      size_t used = 0;
      unsigned long long n = std::stoull(s, &used, 0);
      if (used == s.size() && n <= 0xFFFFFFFFULL && s[0] != '-' && s[0] != '+')
        return static_cast<uint32_t>(n);
    } catch (const std::exception&) {
    }
    return std::nullopt;
  };
  if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 0xFFFFFFFFLL) {
    r.fwmark = static_cast<uint32_t>(v.get<int64_t>());
    return;
  }
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    auto slash = s.find('/');
    r.fwmark = number(s.substr(0, slash));
    if (slash != std::string::npos) r.fwmask = number(s.substr(slash + 1));
    if (r.fwmark && (slash == std::string::npos || r.fwmask)) return;
  }
  f.fail("fwmark",
         "expected a mark as an int or \"mark/mask\" (e.g. \"0x10/0xff\"), found " + describe_value(v));
}

void build_rule(Fields& f, const std::string& scope, State& out) {
  Rule r;
  r.scope = scope;
  r.priority = *f.uint("priority", 0, 0xFFFFFFFF);
  r.from = f.cidr("from");
  r.to = f.cidr("to");
  auto family = f.choice<Family>("family", {{"ipv4", Family::V4}, {"ipv6", Family::V6}});
  // Without an explicit family the selectors decide; a rule with none of them is IPv4, as in ip-rule(8).
  for (const char* key : {"from", "to"}) {
    const auto& sel = std::string(key) == "from" ? r.from : r.to;
    if (!sel) continue;
    if (family && *family != sel->family())
      f.fail(key, fmt::format("{} is {} but the rule is {}", sel->str(), family_name(sel->family()),
                              family_name(*family)));
    family = sel->family();
  }
  r.family = family.value_or(Family::V4);
  r.iif = f.ifname("iif").value_or("");
  r.oif = f.ifname("oif").value_or("");
  read_fwmark(f, r);
  r.table = *f.table("table");
  out.rules.push_back(std::move(r));
}

// ---- nat
// ---------------------------------------------------------------------------------------------------

void build_nat(Fields& f, const std::string& scope, State& out) {
  NatEntry n;
  n.scope = scope;
  n.action = *f.choice<NatAction>(
      "action",
      {{"masquerade", NatAction::Masquerade}, {"snat", NatAction::Snat}, {"dnat", NatAction::Dnat}});
  auto family = f.choice<Family>("family", {{"ipv4", Family::V4}, {"ipv6", Family::V6}});
  auto agree = [&](const char* key, Family got, const std::string& what) {
    if (family && *family != got)
      f.fail(key, fmt::format("{} is {} but the rule is {}", what, family_name(got), family_name(*family)));
    family = got;
  };
  if (auto s = f.negatable_cidr("saddr")) {
    agree("saddr", s->value.family(), s->value.str());
    n.saddr = s->value;
    n.saddr_not = s->negated;
  }
  if (auto d = f.negatable_cidr("daddr")) {
    agree("daddr", d->value.family(), d->value.str());
    n.daddr = d->value;
    n.daddr_not = d->negated;
  }
  if (auto i = f.negatable_ifname("iif")) {
    n.iif = i->value;
    n.iif_not = i->negated;
  }
  if (auto o = f.negatable_ifname("oif")) {
    n.oif = o->value;
    n.oif_not = o->negated;
  }
  n.to = f.ip("to");
  if (n.action == NatAction::Masquerade && n.to)
    f.fail("to", "masquerade takes its address from the outgoing interface; 'to' is for snat and dnat");
  if (n.action != NatAction::Masquerade && !n.to)
    f.fail("action", "snat and dnat need 'to' (the address to translate to)");
  if (n.to) agree("to", n.to->family, n.to->str());
  n.family = family.value_or(Family::V4);
  out.nat.push_back(std::move(n));
}

// ---- sysctls
// -----------------------------------------------------------------------------------------------

void build_sysctl(Fields& f, const std::string& scope, State& out) {
  Sysctl s;
  s.scope = scope;
  s.name = *f.string("name");
  // Only net.* is per network namespace; anything else would change the whole node, which a CNI plugin must
  // not do on a template's say-so. Empty segments would let a name walk out of /proc/sys/net.
  if (s.name.rfind("net.", 0) != 0 || s.name.find("..") != std::string::npos || s.name.back() == '.' ||
      s.name.find_first_of(" \t\n\\") != std::string::npos)
    f.fail("name", fmt::format("'{}' is not a net.* sysctl name (dotted, e.g. net.ipv4.conf.eth0.forwarding)",
                               s.name));
  const json& v = f.value("value");
  if (v.is_boolean())
    s.value = v.get<bool>() ? "1" : "0";
  else
    s.value = *f.string("value");
  out.sysctls.push_back(std::move(s));
}

// ---- the table
// ---------------------------------------------------------------------------------------------

struct KindSpec {
  const char* section;  // key in the scope section
  const char* what;     // for messages
  std::initializer_list<KeySpec> keys;
  void (*build)(Fields&, const std::string&, State&);
};

const KindSpec kKinds[] = {
    {"links",
     "a link",
     {{"name", true},
      {"kind", false},
      {"peer", false},
      {"mtu", false},
      {"up", false},
      {"loop", false},
      {"when", false}},
     build_link},
    {"addresses",
     "an address",
     {{"dev", true}, {"address", true}, {"nodad", false}, {"loop", false}, {"when", false}},
     build_address},
    {"routes",
     "a route",
     {{"dst", true},
      {"via", false},
      {"dev", false},
      {"table", false},
      {"metric", false},
      {"tos", false},
      {"src", false},
      {"scope", false},
      {"type", false},
      {"onlink", false},
      {"takeover", false},
      {"state", false},
      {"loop", false},
      {"when", false}},
     build_route},
    {"rules",
     "a rule",
     {{"priority", true},
      {"family", false},
      {"from", false},
      {"to", false},
      {"iif", false},
      {"oif", false},
      {"fwmark", false},
      {"table", true},
      {"loop", false},
      {"when", false}},
     build_rule},
    {"nat",
     "a nat rule",
     {{"action", true},
      {"family", false},
      {"saddr", false},
      {"daddr", false},
      {"iif", false},
      {"oif", false},
      {"to", false},
      {"loop", false},
      {"when", false}},
     build_nat},
    {"sysctls",
     "a sysctl",
     {{"name", true}, {"value", true}, {"loop", false}, {"when", false}},
     build_sysctl},
};

void check_item(const std::string& file, const KindSpec& kind, const YAML::Node& item,
                const std::string& path) {
  check_map(file, item, path, kind.what, kind.keys);
  for (auto it = item.begin(); it != item.end(); ++it) {
    std::string key = it->first.Scalar();
    std::string p = join_path(path, key);
    YAML::Node v = it->second;
    if (key == "loop" || key == "when") {
      if (v.IsMap()) fail_at(file, v, p, fmt::format("expected an expression, found {}", node_kind(v)));
      check_condition(file, v, p);
      continue;
    }
    if (key == "peer" && !v.IsNull()) {
      check_map(file, v, p, "a veth peer", {{"name", true}, {"scope", false}});
    } else if (v.IsMap()) {
      // The only other maps are nftables negations.
      bool negatable =
          std::string(kind.section) == "nat" && key != "action" && key != "family" && key != "to";
      if (!negatable) fail_at(file, v, p, fmt::format("expected a single value, found {}", node_kind(v)));
      check_map(file, v, p, "a negated match", {{"not", true}});
    } else if (v.IsSequence()) {
      fail_at(file, v, p, "expected a single value, found a list");
    }
    check_expressions(file, v, p);
  }
}

// Adds where a looped item went wrong, since the YAML position is the same for every iteration.
[[noreturn]] void rethrow_in_loop(const SpecError& e, size_t index, const json& item) {
  std::string shown = item.dump();
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  std::string message = fmt::format("{} (loop index {}, item {})", e.message, index, shown);
  // Keep the type: the plugin reports a host fact's failure with another CNI code than a template's.
  if (dynamic_cast<const HostFactError*>(&e)) throw HostFactError(e.file, e.line, e.column, e.path, message);
  throw SpecError(e.file, e.line, e.column, e.path, message);
}

}  // namespace

void check_section(const std::string& file, const YAML::Node& node, const std::string& scope) {
  if (node.IsNull()) return;
  std::string what = fmt::format("the {} section", scope);
  check_map(file, node, scope, what,
            {{"links", false},
             {"addresses", false},
             {"routes", false},
             {"rules", false},
             {"nat", false},
             {"sysctls", false}});
  for (const KindSpec& kind : kKinds) {
    YAML::Node list = find_key(node, kind.section);
    std::string path = join_path(scope, kind.section);
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence())
      fail_at(file, list, path,
              fmt::format("expected a list of {}, found {}", kind.section, node_kind(list)));
    for (size_t i = 0; i < list.size(); ++i) check_item(file, kind, list[i], fmt::format("{}[{}]", path, i));
  }
}

void render_section(const YAML::Node& node, const std::string& scope, const NodeRenderer& renderer,
                    json& roots, State& out) {
  if (node.IsNull()) return;
  for (const KindSpec& kind : kKinds) {
    YAML::Node list = find_key(node, kind.section);
    if (!list || list.IsNull()) continue;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      std::string path = fmt::format("{}.{}[{}]", scope, kind.section, i);
      YAML::Node loop = find_key(item, "loop");
      YAML::Node when = find_key(item, "when");
      auto one = [&] {
        if (when && !truthy(renderer.condition(when, join_path(path, "when")))) return;
        Fields f(item, path, renderer);
        kind.build(f, scope, out);
      };
      if (!loop) {
        one();
        continue;
      }
      json items = renderer.condition(loop, join_path(path, "loop"));
      if (items.is_null()) items = json::array();  // e.g. an optional list parameter that is not set
      if (!items.is_array())
        fail_at(renderer.file(), loop, join_path(path, "loop"),
                "expected a list to loop over, found " + describe_value(items));
      for (size_t k = 0; k < items.size(); ++k) {
        roots["item"] = items[k];
        roots["index"] = k;
        try {
          one();
        } catch (const SpecError& e) {
          roots.erase("item");
          roots.erase("index");
          rethrow_in_loop(e, k, items[k]);
        }
      }
      roots.erase("item");
      roots.erase("index");
    }
  }
}

}  // namespace topo::tmpl
