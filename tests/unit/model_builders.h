// Small builders so table-driven tests read like `ip route` lines.
#pragma once

#include "topo/model/state.h"

namespace topo::test {

inline IpPrefix pfx(const char* s) { return *IpPrefix::parse(s); }
inline IpAddress ip(const char* s) { return *IpAddress::parse(s); }

inline Route route(const char* scope, const char* dst, const char* dev, uint32_t table = kTableMain) {
  Route r;
  r.scope = scope;
  r.dst = pfx(dst);
  r.dev = dev;
  r.table = table;
  r.route_scope = RouteScope::Link;
  return r;
}

inline Route via(Route r, const char* gw) {
  r.gateway = ip(gw);
  r.route_scope = RouteScope::Universe;
  return r;
}

inline Route owned(Route r) {
  r.owned = true;
  return r;
}

inline Rule rule(const char* scope, uint32_t priority, const char* iif, uint32_t table) {
  Rule r;
  r.scope = scope;
  r.priority = priority;
  r.iif = iif;
  r.table = table;
  return r;
}

inline Link veth(const char* name, const char* peer, const char* alias = "topocni:net/c1/eth0") {
  Link l;
  l.scope = "host";
  l.name = name;
  l.kind = LinkKind::Veth;
  l.peer_scope = "container";
  l.peer_name = peer;
  l.alias = alias;
  return l;
}

inline Sysctl sysctl(const char* scope, const char* name, const char* value) {
  Sysctl s;
  s.scope = scope;
  s.name = name;
  s.value = value;
  return s;
}

inline NatEntry masquerade(const char* scope, const char* iif, const char* oif, const char* owner = "net/c1/eth0") {
  NatEntry n;
  n.scope = scope;
  n.iif = iif;
  n.oif = oif;
  n.owner = owner;
  return n;
}

}  // namespace topo::test
