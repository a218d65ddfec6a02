#include "topo/model/json.h"

#include "topo/error.h"

namespace topo {

using nlohmann::json;

namespace {

// Optional fields are written only when set, and read back when present, so journals stay small and readable.
template <class T>
void put(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <class T>
void get(const json& j, const char* key, std::optional<T>& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->get<T>();
}
template <class T>
void get(const json& j, const char* key, T& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->get<T>();
}

const char* route_scope_name(RouteScope s) {
  switch (s) {
    case RouteScope::Link: return "link";
    case RouteScope::Host: return "host";
    default: return "universe";
  }
}
RouteScope route_scope_from(const std::string& s) {
  if (s == "link") return RouteScope::Link;
  if (s == "host") return RouteScope::Host;
  return RouteScope::Universe;
}

const char* nat_action_name(NatAction a) {
  switch (a) {
    case NatAction::Snat: return "snat";
    case NatAction::Dnat: return "dnat";
    default: return "masquerade";
  }
}
NatAction nat_action_from(const std::string& s) {
  if (s == "snat") return NatAction::Snat;
  if (s == "dnat") return NatAction::Dnat;
  return NatAction::Masquerade;
}

Family family_from(const std::string& s) { return s == "ipv6" ? Family::V6 : Family::V4; }

}  // namespace

void to_json(json& j, const IpAddress& v) { j = v.str(); }
void from_json(const json& j, IpAddress& v) {
  auto a = IpAddress::parse(j.get<std::string>());
  if (!a) throw Error("not an IP address: " + j.dump());
  v = *a;
}
void to_json(json& j, const IpPrefix& v) { j = v.str(); }
void from_json(const json& j, IpPrefix& v) {
  auto p = IpPrefix::parse(j.get<std::string>());
  if (!p) throw Error("not an IP prefix: " + j.dump());
  v = *p;
}

void to_json(json& j, const Link& v) {
  j = {{"namespace", v.scope}, {"name", v.name}, {"kind", v.kind == LinkKind::Veth ? "veth" : "existing"}};
  if (v.kind == LinkKind::Veth) j["peer"] = {{"name", v.peer_name}, {"namespace", v.peer_scope}};
  put(j, "mtu", v.mtu);
  if (!v.up) j["up"] = false;
  if (!v.alias.empty()) j["alias"] = v.alias;
}
void from_json(const json& j, Link& v) {
  get(j, "namespace", v.scope);
  get(j, "name", v.name);
  v.kind = j.value("kind", "veth") == "veth" ? LinkKind::Veth : LinkKind::Existing;
  if (auto p = j.find("peer"); p != j.end()) {
    get(*p, "name", v.peer_name);
    get(*p, "namespace", v.peer_scope);
  }
  get(j, "mtu", v.mtu);
  v.up = j.value("up", true);
  get(j, "alias", v.alias);
}

void to_json(json& j, const Address& v) {
  j = {{"namespace", v.scope}, {"dev", v.dev}, {"address", v.local}};
  if (v.nodad) j["nodad"] = true;
}
void from_json(const json& j, Address& v) {
  get(j, "namespace", v.scope);
  get(j, "dev", v.dev);
  get(j, "address", v.local);
  v.nodad = j.value("nodad", false);
}

void to_json(json& j, const Route& v) {
  j = {{"namespace", v.scope}, {"dst", v.dst}, {"table", v.table}};
  put(j, "via", v.gateway);
  if (!v.dev.empty()) j["dev"] = v.dev;
  put(j, "src", v.src);
  if (v.metric) j["metric"] = v.metric;
  if (v.tos) j["tos"] = v.tos;
  if (v.route_scope != RouteScope::Universe) j["scope"] = route_scope_name(v.route_scope);
  if (v.type != RouteType::Unicast) j["type"] = static_cast<int>(v.type);
  if (v.onlink) j["onlink"] = true;
  if (v.takeover) j["takeover"] = true;
  if (v.absent) j["state"] = "absent";
  if (v.protocol != kOwnerProtocol) j["protocol"] = v.protocol;
}
void from_json(const json& j, Route& v) {
  get(j, "namespace", v.scope);
  get(j, "dst", v.dst);
  get(j, "table", v.table);
  get(j, "via", v.gateway);
  get(j, "dev", v.dev);
  get(j, "src", v.src);
  get(j, "metric", v.metric);
  get(j, "tos", v.tos);
  v.route_scope = route_scope_from(j.value("scope", "universe"));
  v.type = static_cast<RouteType>(j.value("type", static_cast<int>(RouteType::Unicast)));
  v.onlink = j.value("onlink", false);
  v.takeover = j.value("takeover", false);
  v.absent = j.value("state", "present") == "absent";
  v.protocol = j.value("protocol", kOwnerProtocol);
}

void to_json(json& j, const Rule& v) {
  j = {{"namespace", v.scope}, {"family", family_name(v.family)}, {"priority", v.priority}, {"table", v.table}};
  put(j, "from", v.from);
  put(j, "to", v.to);
  if (!v.iif.empty()) j["iif"] = v.iif;
  if (!v.oif.empty()) j["oif"] = v.oif;
  put(j, "fwmark", v.fwmark);
  put(j, "fwmask", v.fwmask);
}
void from_json(const json& j, Rule& v) {
  get(j, "namespace", v.scope);
  v.family = family_from(j.value("family", "ipv4"));
  get(j, "priority", v.priority);
  get(j, "table", v.table);
  get(j, "from", v.from);
  get(j, "to", v.to);
  get(j, "iif", v.iif);
  get(j, "oif", v.oif);
  get(j, "fwmark", v.fwmark);
  get(j, "fwmask", v.fwmask);
}

void to_json(json& j, const NatEntry& v) {
  j = {{"namespace", v.scope}, {"family", family_name(v.family)}, {"action", nat_action_name(v.action)}};
  auto match = [&](const char* key, bool negate, const json& value) {
    j[key] = negate ? json{{"not", value}} : value;
  };
  if (v.saddr) match("saddr", v.saddr_not, *v.saddr);
  if (v.daddr) match("daddr", v.daddr_not, *v.daddr);
  if (!v.iif.empty()) match("iif", v.iif_not, v.iif);
  if (!v.oif.empty()) match("oif", v.oif_not, v.oif);
  put(j, "to", v.to);
  if (!v.owner.empty()) j["owner"] = v.owner;
}
void from_json(const json& j, NatEntry& v) {
  get(j, "namespace", v.scope);
  v.family = family_from(j.value("family", "ipv4"));
  v.action = nat_action_from(j.value("action", "masquerade"));
  auto match = [&](const char* key, bool& negate, auto& out) {
    auto it = j.find(key);
    if (it == j.end()) return;
    negate = it->is_object();
    const json& value = negate ? it->at("not") : *it;
    using T = std::decay_t<decltype(out)>;
    if constexpr (std::is_same_v<T, std::string>) {
      out = value.get<std::string>();
    } else {
      out = value.get<typename T::value_type>();
    }
  };
  match("saddr", v.saddr_not, v.saddr);
  match("daddr", v.daddr_not, v.daddr);
  match("iif", v.iif_not, v.iif);
  match("oif", v.oif_not, v.oif);
  get(j, "to", v.to);
  get(j, "owner", v.owner);
}

void to_json(json& j, const Sysctl& v) {
  j = {{"namespace", v.scope}, {"name", v.name}, {"value", v.value}};
  put(j, "previous", v.previous);
}
void from_json(const json& j, Sysctl& v) {
  get(j, "namespace", v.scope);
  get(j, "name", v.name);
  get(j, "value", v.value);
  get(j, "previous", v.previous);
}

void to_json(json& j, const State& v) {
  j = json::object();
  if (!v.links.empty()) j["links"] = v.links;
  if (!v.sysctls.empty()) j["sysctls"] = v.sysctls;
  if (!v.addresses.empty()) j["addresses"] = v.addresses;
  if (!v.routes.empty()) j["routes"] = v.routes;
  if (!v.rules.empty()) j["rules"] = v.rules;
  if (!v.nat.empty()) j["nat"] = v.nat;
}
void from_json(const json& j, State& v) {
  get(j, "links", v.links);
  get(j, "sysctls", v.sysctls);
  get(j, "addresses", v.addresses);
  get(j, "routes", v.routes);
  get(j, "rules", v.rules);
  get(j, "nat", v.nat);
}

json object_to_json(const Object& o) {
  json j = std::visit([](const auto& v) { return json(v); }, o);
  j["kind"] = std::string(kind_name(o));
  return j;
}

Object object_from_json(const json& j) {
  auto kind = j.at("kind").get<std::string>();
  if (kind == "link") return j.get<Link>();
  if (kind == "sysctl") return j.get<Sysctl>();
  if (kind == "address") return j.get<Address>();
  if (kind == "route") return j.get<Route>();
  if (kind == "rule") return j.get<Rule>();
  if (kind == "nat") return j.get<NatEntry>();
  throw Error("unknown object kind in JSON: " + kind);
}

json change_to_json(const Change& c) {
  static const char* kActions[] = {"create", "delete", "replace"};
  json j = {{"action", kActions[static_cast<int>(c.action)]},
            {"namespace", scope_of(c.object)},
            {"kind", std::string(kind_name(c.object))},
            {"object", object_to_json(c.object)},
            {"description", describe(c.object)}};
  if (c.previous) {
    j["previous"] = object_to_json(*c.previous);
    j["previous_description"] = describe(*c.previous);
  }
  return j;
}

}  // namespace topo
