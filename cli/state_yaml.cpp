#include "state_yaml.h"

#include <cstdio>
#include <map>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "topo/model/json.h"
#include "topo/model/scope.h"

namespace topo::cli {

using nlohmann::json;

namespace {

std::string table_value(uint32_t t) {
  if (t == kTableMain) return "main";
  if (t == kTableLocal) return "local";
  return std::to_string(t);
}

// Plain YAML for numbers and words, as a template author would write them.
void put(YAML::Emitter& out, const char* key, const std::string& value) { out << YAML::Key << key << YAML::Value << value; }
void put(YAML::Emitter& out, const char* key, uint64_t value) { out << YAML::Key << key << YAML::Value << value; }
void put_bool(YAML::Emitter& out, const char* key, bool value) {
  out << YAML::Key << key << YAML::Value << (value ? "true" : "false");
}
void put_match(YAML::Emitter& out, const char* key, bool negate, const std::string& value) {
  out << YAML::Key << key << YAML::Value;
  if (negate) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "not" << YAML::Value << value << YAML::EndMap;
  } else {
    out << value;
  }
}

void emit(YAML::Emitter& out, const Link& l) {
  put(out, "name", l.name);
  if (l.kind == LinkKind::Existing) {
    put(out, "kind", "existing");
    return;
  }
  out << YAML::Key << "peer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  put(out, "name", l.peer_name);
  put(out, "scope", l.peer_scope);
  out << YAML::EndMap;
  if (l.mtu) put(out, "mtu", *l.mtu);
  if (!l.up) put_bool(out, "up", false);
}

void emit(YAML::Emitter& out, const Sysctl& s) {
  put(out, "name", s.name);
  put(out, "value", s.value);
}

void emit(YAML::Emitter& out, const Address& a) {
  put(out, "dev", a.dev);
  put(out, "address", a.local.str());
  if (a.nodad) put_bool(out, "nodad", true);
}

void emit(YAML::Emitter& out, const Route& r) {
  // `default` means ::/0 only next to an IPv6 `via`; elsewhere the IPv6 default is written out.
  bool v6_without_via = r.family() == Family::V6 && !r.gateway;
  put(out, "dst", r.dst.is_default() && !v6_without_via ? "default" : r.dst.str());
  if (r.gateway) put(out, "via", r.gateway->str());
  if (!r.dev.empty()) put(out, "dev", r.dev);
  if (r.table != kTableMain) put(out, "table", table_value(r.table));
  if (r.metric) put(out, "metric", r.metric);
  if (r.tos) put(out, "tos", r.tos);
  if (r.src) put(out, "src", r.src->str());
  // Written only where it differs from what the template would derive (ip-route(8)'s defaults).
  RouteScope derived = r.type == RouteType::Local                          ? RouteScope::Host
                       : r.type == RouteType::Unicast && !r.gateway ? RouteScope::Link
                                                                           : RouteScope::Universe;
  if (r.route_scope != derived) {
    put(out, "scope", r.route_scope == RouteScope::Host ? "host" : r.route_scope == RouteScope::Link ? "link" : "universe");
  }
  static const std::map<RouteType, const char*> kTypes = {{RouteType::Local, "local"},
                                                           {RouteType::Blackhole, "blackhole"},
                                                           {RouteType::Unreachable, "unreachable"},
                                                           {RouteType::Prohibit, "prohibit"},
                                                           {RouteType::Throw, "throw"}};
  if (auto it = kTypes.find(r.type); it != kTypes.end()) put(out, "type", it->second);
  if (r.onlink) put_bool(out, "onlink", true);
  if (r.takeover) put_bool(out, "takeover", true);
}

void emit(YAML::Emitter& out, const Rule& r) {
  put(out, "priority", r.priority);
  // The family is written when the selectors do not already say it.
  if (!r.from && !r.to && r.family == Family::V6) put(out, "family", "ipv6");
  if (r.from) put(out, "from", r.from->str());
  if (r.to) put(out, "to", r.to->str());
  if (!r.iif.empty()) put(out, "iif", r.iif);
  if (!r.oif.empty()) put(out, "oif", r.oif);
  if (r.fwmark && r.fwmask) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%x/0x%x", *r.fwmark, *r.fwmask);
    put(out, "fwmark", buf);
  } else if (r.fwmark) {
    put(out, "fwmark", *r.fwmark);
  }
  put(out, "table", table_value(r.table));
}

void emit(YAML::Emitter& out, const NatEntry& n) {
  static const char* kActions[] = {"masquerade", "snat", "dnat"};
  put(out, "action", kActions[static_cast<int>(n.action)]);
  if (!n.saddr && !n.daddr && !n.to && n.family == Family::V6) put(out, "family", "ipv6");
  if (n.saddr) put_match(out, "saddr", n.saddr_not, n.saddr->str());
  if (n.daddr) put_match(out, "daddr", n.daddr_not, n.daddr->str());
  if (!n.iif.empty()) put_match(out, "iif", n.iif_not, n.iif);
  if (!n.oif.empty()) put_match(out, "oif", n.oif_not, n.oif);
  if (n.to) put(out, "to", n.to->str());
}

template <class T>
void emit_kind(YAML::Emitter& out, const char* name, const std::vector<T>& all, const std::string& scope) {
  bool open = false;
  for (const T& o : all) {
    if (o.scope != scope) continue;
    if (!open) {
      out << YAML::Key << name << YAML::Value << YAML::BeginSeq;
      open = true;
    }
    out << YAML::Flow << YAML::BeginMap;
    emit(out, o);
    out << YAML::EndMap;
  }
  if (open) out << YAML::EndSeq;
}

bool has_scope(const State& s, const std::string& scope) {
  auto any = [&](const auto& v) {
    for (const auto& o : v)
      if (o.scope == scope) return true;
    return false;
  };
  return any(s.links) || any(s.sysctls) || any(s.addresses) || any(s.routes) || any(s.rules) || any(s.nat);
}

}  // namespace

std::string state_to_yaml(const State& state, const std::vector<std::string>& comment) {
  std::string text;
  for (const std::string& line : comment) text += "# " + line + "\n";
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  for (const char* scope : {kHostScope, kContainerScope}) {
    if (!has_scope(state, scope)) continue;
    out << YAML::Key << scope << YAML::Value << YAML::BeginMap;
    // The order of the template format's documentation, which is also the order creates run in.
    emit_kind(out, "links", state.links, scope);
    emit_kind(out, "sysctls", state.sysctls, scope);
    emit_kind(out, "addresses", state.addresses, scope);
    emit_kind(out, "routes", state.routes, scope);
    emit_kind(out, "rules", state.rules, scope);
    emit_kind(out, "nat", state.nat, scope);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  // An empty state is `{}`, which is still a loadable (empty) template.
  return text + out.c_str() + "\n";
}

json state_by_scope(const State& state) {
  json out = json::object();
  auto add = [&](const char* kind, const auto& all) {
    for (const auto& o : all) out[o.scope][kind].push_back(json(o));
  };
  add("links", state.links);
  add("sysctls", state.sysctls);
  add("addresses", state.addresses);
  add("routes", state.routes);
  add("rules", state.rules);
  add("nat", state.nat);
  return out;
}

}  // namespace topo::cli
