// The route kind: text, journal JSON, template fields, ownership and diff policy. Kernel I/O is in
// route_kernel.cpp, the netlink codec in route_codec.cpp.
#include <fmt/format.h>

#include <map>

#include "kinds/absent.h"
#include "kinds/route/route_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

namespace {

// One table per enum, looked up both ways (template words, journal JSON, plan text).
const EnumTable<RouteScope> kRouteScopes = {
    {RouteScope::Universe, "universe"}, {RouteScope::Link, "link"}, {RouteScope::Host, "host"}};
const EnumTable<RouteType> kRouteTypes = {{RouteType::Unicast, "unicast"},         {RouteType::Local, "local"},
                                          {RouteType::Blackhole, "blackhole"},     {RouteType::Unreachable, "unreachable"},
                                          {RouteType::Prohibit, "prohibit"},       {RouteType::Throw, "throw"}};

// The scope ip-route(8) picks when none is given: host for local routes, link for unicast routes without a
// gateway, universe otherwise. A template that omits it gets what `ip route add` would make.
RouteScope derived_scope(const Route& r) {
  return r.type == RouteType::Local                   ? RouteScope::Host
         : r.type == RouteType::Unicast && !r.gateway ? RouteScope::Link
                                                      : RouteScope::Universe;
}

// `state: absent` (kinds/absent.h): only the route's key (dst, table, metric, tos) says which route must not
// exist; the diff deletes whatever route holds that key, whatever its next hop.
void build_absent(tmpl::Fields& f, const std::string& scope, std::vector<Route>& out) {
  Route r;
  r.scope = scope;
  r.absent = true;
  if (f.value("dst") == "default") {
    // No gateway says the family here, so "default" is IPv4 as in ip-route(8); "::/0" is IPv6's.
    r.dst = *IpPrefix::parse("0.0.0.0/0");
  } else {
    r.dst = f.required(&tmpl::Fields::cidr, "dst");
    if (r.dst.network() != r.dst)
      f.fail("dst", fmt::format("{} has host bits set; no route can have it as destination (network() gives {})",
                                r.dst.str(), r.dst.network().str()));
  }
  r.table = f.table("table").value_or(kTableMain);
  r.metric = f.uint("metric", 0, 0xFFFFFFFF).value_or(0);
  r.tos = static_cast<uint8_t>(f.uint("tos", 0, 255).value_or(0));
  out.push_back(std::move(r));
}

}  // namespace

std::string describe(const Route& r) {
  std::string s = "route ";
  if (r.type != RouteType::Unicast) s += std::string(kRouteTypes.name(r.type)) + " ";
  s += r.dst.is_default() ? (r.family() == Family::V4 ? std::string("default") : std::string("default (ipv6)"))
                          : prefix_text(r.dst);
  if (r.gateway) s += " via " + r.gateway->str();
  if (!r.dev.empty()) s += " dev " + r.dev;
  if (r.table != kTableMain) s += " table " + table_text(r.table);
  if (r.route_scope == RouteScope::Link) s += " scope link";
  if (r.route_scope == RouteScope::Host) s += " scope host";
  if (r.src) s += " src " + r.src->str();
  if (r.metric) s += fmt::format(" metric {}", r.metric);
  if (r.tos) s += fmt::format(" tos {}", r.tos);
  if (r.onlink) s += " onlink";
  return s;
}

void to_json(json& j, const Route& v) {
  j = {{"namespace", v.scope}, {"dst", v.dst}, {"table", v.table}};
  put_optional(j, "via", v.gateway);
  if (!v.dev.empty()) j["dev"] = v.dev;
  put_optional(j, "src", v.src);
  if (v.metric) j["metric"] = v.metric;
  if (v.tos) j["tos"] = v.tos;
  if (v.route_scope != RouteScope::Universe) j["scope"] = kRouteScopes.name(v.route_scope);
  if (v.type != RouteType::Unicast) j["type"] = static_cast<int>(v.type);
  if (v.onlink) j["onlink"] = true;
  if (v.takeover) j["takeover"] = true;
  if (v.absent) j["state"] = "absent";
  if (v.protocol != kOwnerProtocol) j["protocol"] = v.protocol;
}

void from_json(const json& j, Route& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "dst", v.dst);
  get_field(j, "table", v.table);
  get_field(j, "via", v.gateway);
  get_field(j, "dev", v.dev);
  get_field(j, "src", v.src);
  get_field(j, "metric", v.metric);
  get_field(j, "tos", v.tos);
  v.route_scope = kRouteScopes.value(j.value("scope", "universe")).value_or(RouteScope::Universe);
  v.type = static_cast<RouteType>(field_or(j, "type", static_cast<uint8_t>(RouteType::Unicast)));
  v.onlink = j.value("onlink", false);
  v.takeover = j.value("takeover", false);
  v.absent = j.value("state", "present") == "absent";
  v.protocol = field_or(j, "protocol", kOwnerProtocol);
}

const tmpl::KindSchema& KindOps<Route>::schema() {
  static const tmpl::KindSchema s{"a route",
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
                                   {"state", false}}};
  return s;
}

void KindOps<Route>::build(tmpl::Fields& f, const std::string& scope, std::vector<Route>& out) {
  if (read_absent(f, "a route", "dst, table, metric and tos", {"via", "dev", "src", "scope", "type", "onlink", "takeover"}))
    return build_absent(f, scope, out);
  Route r;
  r.scope = scope;
  r.gateway = f.ip("via");
  if (f.value("dst") == "default") {
    // Like ip-route(8): "default" is 0/0 in the family of the gateway, IPv4 without one.
    r.dst = *IpPrefix::parse(r.gateway && r.gateway->family == Family::V6 ? "::/0" : "0.0.0.0/0");
  } else {
    r.dst = f.required(&tmpl::Fields::cidr, "dst");
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
  r.type = f.word("type", kRouteTypes).value_or(RouteType::Unicast);
  r.route_scope = f.word("scope", kRouteScopes).value_or(derived_scope(r));
  r.onlink = f.boolean("onlink").value_or(false);
  r.takeover = f.boolean("takeover").value_or(false);
  bool forwards = r.type == RouteType::Unicast || r.type == RouteType::Local;
  if (forwards && !r.gateway && r.dev.empty()) f.fail("dev", "a unicast or local route needs a dev or a via");
  if (!forwards && r.gateway) f.fail("via", "a blackhole, unreachable, prohibit or throw route has no gateway");
  if (r.onlink && !r.gateway) f.fail("onlink", "onlink applies to routes with a via only");
  out.push_back(std::move(r));
}

nlohmann::ordered_json KindOps<Route>::template_form(const Route& r) {
  nlohmann::ordered_json j;
  // `default` means ::/0 only next to an IPv6 `via`; elsewhere the IPv6 default is written out.
  bool v6_without_via = r.family() == Family::V6 && !r.gateway;
  j["dst"] = r.dst.is_default() && !v6_without_via ? "default" : r.dst.str();
  if (r.gateway) j["via"] = r.gateway->str();
  if (!r.dev.empty()) j["dev"] = r.dev;
  if (r.table != kTableMain) j["table"] = table_text(r.table);
  if (r.metric) j["metric"] = r.metric;
  if (r.tos) j["tos"] = r.tos;
  if (r.src) j["src"] = r.src->str();
  // Written only where it differs from what the template would derive (ip-route(8)'s defaults).
  if (r.route_scope != derived_scope(r)) j["scope"] = kRouteScopes.name(r.route_scope);
  if (r.type != RouteType::Unicast) j["type"] = kRouteTypes.name(r.type);
  if (r.onlink) j["onlink"] = true;
  if (r.takeover) j["takeover"] = true;
  if (r.absent) j["state"] = "absent";
  return j;
}

// Routes we create carry rtm_protocol 157 from their default value; a foreign route put back keeps its own.
void KindOps<Route>::stamp(Route&, const OwnerMark&) {}
bool KindOps<Route>::owned(const Route& observed) { return observed.owned; }

bool KindOps<Route>::may_replace(const Route& want, const Route& seen) { return seen.owned || want.takeover; }

}  // namespace topo
