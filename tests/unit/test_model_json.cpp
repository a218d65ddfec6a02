#include <doctest/doctest.h>

#include "model_builders.h"
#include "topo/model/json.h"
#include "topo/plan.h"

using namespace topo;
using namespace topo::test;

TEST_CASE("every kind survives a JSON round trip (the journal depends on it)") {
  State s;
  Link l = veth("vethA", "veth0");
  l.mtu = 1400;
  s.of<Link>().push_back(l);
  Route r = via(route("container", "0.0.0.0/0", "veth0", 100), "10.0.0.1");
  r.src = ip("10.0.0.5");
  r.metric = 10;
  r.onlink = true;
  r.takeover = true;
  s.of<Route>().push_back(r);
  Route foreign = route("container", "10.1.0.0/16", "eth0");
  foreign.protocol = 3;
  s.of<Route>().push_back(foreign);
  Rule ru = rule("host", 1000, "vethA", 100);
  ru.from = pfx("10.0.0.0/24");
  ru.fwmark = 0x10;
  ru.fwmask = 0xff;
  s.of<Rule>().push_back(ru);
  NatEntry n = masquerade("host", "vethA", "vethA");
  n.daddr = pfx("10.0.0.5/32");
  n.daddr_not = true;
  s.of<NatEntry>().push_back(n);
  NatEntry d;
  d.scope = "host";
  d.family = Family::V6;
  d.action = NatAction::Dnat;
  d.daddr = pfx("fd00::1/128");
  d.to = ip("fd00::2");
  s.of<NatEntry>().push_back(d);
  Sysctl sc = sysctl("host", "net.ipv4.ip_forward", "1");
  sc.previous = "0";
  s.of<Sysctl>().push_back(sc);
  Address a;
  a.scope = "container";
  a.dev = "veth0";
  a.local = pfx("fe80::2/64");
  a.nodad = true;
  s.of<Address>().push_back(a);

  nlohmann::json j = s;
  State back = j.get<State>();
  CHECK(back.of<Link>() == s.of<Link>());
  CHECK(back.of<Route>() == s.of<Route>());
  CHECK(back.of<Route>()[0].takeover);
  CHECK(back.of<Route>()[0].protocol == kOwnerProtocol);
  CHECK(back.of<Route>()[1].protocol == 3);
  CHECK(back.of<Rule>() == s.of<Rule>());
  CHECK(back.of<NatEntry>() == s.of<NatEntry>());
  CHECK(back.of<Sysctl>() == s.of<Sysctl>());
  CHECK(back.of<Sysctl>()[0].previous == "0");
  CHECK(back.of<Address>() == s.of<Address>());
  CHECK(j["nat"][0]["daddr"]["not"] == "10.0.0.5/32");
}

TEST_CASE("describe speaks iproute2") {
  CHECK(describe(route("host", "10.0.0.5/32", "vethA")) == "route 10.0.0.5 dev vethA scope link");
  CHECK(describe(via(route("container", "0.0.0.0/0", "veth0"), "10.0.0.1")) == "route default via 10.0.0.1 dev veth0");
  CHECK(describe(route("host", "10.0.0.0/24", "vethA", 1234)) == "route 10.0.0.0/24 dev vethA table 1234 scope link");
  CHECK(describe(rule("host", 1000, "vethA", 1234)) == "rule pref 1000 iif vethA lookup 1234");
}

TEST_CASE("IP prefixes parse strictly") {
  CHECK(IpPrefix::parse("10.0.0.1/24")->network().str() == "10.0.0.0/24");
  CHECK(IpPrefix::parse("10.0.0.1")->str() == "10.0.0.1/32");
  CHECK(IpPrefix::parse("fd00::1/64")->network().str() == "fd00::/64");
  CHECK_FALSE(IpPrefix::parse("10.0.0.1/33"));
  CHECK_FALSE(IpPrefix::parse("10.0.0.1/"));
  CHECK_FALSE(IpPrefix::parse("10.0.0/8"));
  CHECK(IpPrefix::parse("10.0.0.0/8")->contains(*IpAddress::parse("10.200.0.1")));
  CHECK_FALSE(IpPrefix::parse("10.0.0.0/8")->contains(*IpAddress::parse("11.0.0.1")));
}

TEST_CASE("inverse undoes each kind of change") {
  Route a = route("host", "10.0.0.0/24", "x"), b = route("host", "10.0.0.0/24", "y");
  CHECK(inverse({Action::Create, a, std::nullopt}).action == Action::Delete);
  CHECK(inverse({Action::Delete, a, std::nullopt}).action == Action::Create);
  Change r = inverse({Action::Replace, b, a});
  CHECK(r.action == Action::Replace);
  CHECK(std::get<Route>(r.object).dev == "x");
  CHECK(std::get<Route>(*r.previous).dev == "y");
}
