// Rendering templates: typed vs string interpolation, loop/when, a small full template asserting the exact
// State, and the flagship specs/veth-to-host.yaml.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "template/prev.h"
#include "template_fakes.h"
#include "topo/error.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;

namespace {

Rendered render(const std::string& yaml, RenderContext ctx = {}, const std::string& name = "t") {
  Template t = Template::load({name, name + ".yaml", yaml});
  return t.render(ctx);
}

IpPrefix P(const char* s) { return *IpPrefix::parse(s); }
IpAddress A(const char* s) { return *IpAddress::parse(s); }

}  // namespace

TEST_CASE("plain scalars keep their YAML types, interpolated ones their expression's") {
  auto r = render(R"(
parameters:
  n: {type: int, default: 5}
  l: {type: list, default: [1, 2]}
vars:
  int: 7
  quoted: "7"
  bool: true
  nothing: ~
  typed: ${ params.n }
  list: ${ params.l }
  mixed: "n=${ params.n }"
  map: {a: "${ params.n }", b: [x, "${ vars.int }"]}
host:
  sysctls:
    - {name: "net.x.${ vars.typed }", value: "${ vars | length }"}
)");
  CHECK(r.params == json{{"n", 5}, {"l", {1, 2}}});
  REQUIRE(r.state.of<Sysctl>().size() == 1);
  CHECK(r.state.of<Sysctl>()[0].name == "net.x.5");
  CHECK(r.state.of<Sysctl>()[0].value == "8");
  // The vars themselves, through a second template that prints them.
  auto v = render(R"(
vars:
  int: 7
  quoted: "7"
  bool: true
  nothing: ~
  list: ${ [1, 'a'] }
  mixed: "x${ 1 }"
  map: {a: "${ 1 }"}
host:
  sysctls:
    - loop: "[vars.int == 7, vars.quoted == '7', vars.bool == true, vars.nothing == null, vars.list == [1, 'a'], vars.mixed == 'x1', vars.map.a == 1]"
      name: "net.check${ index }"
      value: "${ item }"
)");
  REQUIRE(v.state.of<Sysctl>().size() == 7);
  for (auto& s : v.state.of<Sysctl>()) {
    CAPTURE(s.name);
    CHECK(s.value == "1");  // a bool sysctl value is written as 1 or 0
  }
}

TEST_CASE("loop binds item and index; when is evaluated per item") {
  auto r = render(R"(
parameters:
  cidrs: {type: cidrs, default: ["10.1.0.0/16", "fd00::/64", "10.2.0.0/16"]}
  on: {type: bool, default: false}
host:
  routes:
    - loop: params.cidrs
      when: item | family == 4 and index != 0
      dst: "${ item }"
      dev: "eth${ index }"
    - when: params.on
      dst: 10.9.0.0/16
      dev: eth0
    - when: not params.on
      dst: 10.8.0.0/16
      dev: eth0
    - loop: "${ [] }"
      dst: 10.7.0.0/16
      dev: eth0
    - loop: [10.6.0.0/16, 10.5.0.0/16]
      dst: "${ item }"
      dev: lo
)");
  std::vector<std::string> got;
  for (auto& route : r.state.of<Route>()) got.push_back(route.dst.str() + " " + route.dev);
  CHECK(got ==
        std::vector<std::string>{"10.2.0.0/16 eth2", "10.8.0.0/16 eth0", "10.6.0.0/16 lo", "10.5.0.0/16 lo"});
}

TEST_CASE("a small full template renders to the exact State") {
  test::FakeFacts facts;
  facts.addrs["eth0"] = {"fe80::1/64", "192.168.1.10/24"};
  test::FakeAllocator alloc;
  RenderContext ctx;
  ctx.config = {{"cniVersion", "1.0.0"}, {"name", "net"}, {"type", "topocni"},
                {"uplink", "eth0"},      {"masq", true},  {"extra", {"10.50.0.0/16"}}};
  ctx.cni = {{"containerId", "c1"}, {"ifname", "eth1"}, {"attachment", "c1/eth1"}};
  ctx.prev = {{"cniVersion", "1.0.0"},
              {"interfaces", {{{"name", "eth1"}, {"sandbox", "/var/run/netns/x"}}}},
              {"ips",
               {{{"address", "10.10.20.50/24"}, {"gateway", "10.10.20.1"}, {"interface", 0}},
                {{"address", "fd00::50/64"}, {"interface", 0}}}},
              {"routes", {{{"dst", "0.0.0.0/0"}, {"gw", "10.10.20.1"}}}}};
  ctx.facts = &facts;
  ctx.allocator = &alloc;
  auto r = render(R"(
name: small
parameters:
  uplink: {type: ifname, required: true}
  masq: {type: bool, default: false}
  extra: {type: cidrs, default: []}
allocate:
  tbl: {kind: table, range: [100, 200]}
vars:
  hv: "h${ cni.attachment | hash(4) }"
  node: "${ params.uplink | host_addresses | ipv4 | first | address }"
host:
  links:
    - {name: "${ vars.hv }", peer: {name: veth0, scope: container}, mtu: 1400}
    - {name: "${ params.uplink }", kind: existing}
  addresses:
    - {dev: "${ vars.hv }", address: "fd00:1::1/64", nodad: true}
  routes:
    - loop: prev.ips | ipv4
      dst: "${ item.address | host }"
      dev: "${ vars.hv }"
    - loop: params.extra
      dst: "${ item }"
      via: "${ prev.ips[0].gateway }"
      table: "${ alloc.tbl }"
      metric: 10
      src: "${ prev.ips[0] | address }"
      onlink: true
    - {dst: 10.99.0.0/16, type: blackhole}
    - {dst: "fd00:2::/64", dev: "${ vars.hv }", table: local, type: local}
  rules:
    - {priority: 1000, iif: "${ vars.hv }", table: "${ alloc.tbl }"}
    - {priority: 1001, to: "fd00::/8", fwmark: "0x10/0xff", table: main}
  nat:
    - loop: prev.ips | ipv4
      when: params.masq
      action: masquerade
      oif: "${ params.uplink }"
      saddr: "${ item.address | network }"
      daddr: {not: "${ item.address | network }"}
    - {action: dnat, family: ipv4, iif: {not: lo}, daddr: 192.168.1.10, to: "${ prev.ips[0] | address }"}
  sysctls:
    - {name: "net.ipv4.conf.${ vars.hv }.forwarding", value: 1}
container:
  routes:
    - {dst: "${ vars.node | host }", dev: veth0, scope: link}
    - {dst: default, via: "${ vars.node }", dev: veth0, takeover: true}
    - {dst: default, via: "fd00::1", dev: veth0, metric: 0}
)",
                  ctx, "small");

  std::string hv = r.state.of<Link>().at(0).name;
  CHECK(hv.size() == 5);
  CHECK(hv[0] == 'h');
  CHECK(r.params == json{{"uplink", "eth0"}, {"masq", true}, {"extra", {"10.50.0.0/16"}}});
  CHECK(r.allocations == json{{"tbl", 10007}});
  CHECK(alloc.calls == std::vector<std::string>{"tbl:100-200"});

  Link veth;
  veth.scope = "host";
  veth.name = hv;
  veth.peer_scope = "container";
  veth.peer_name = "veth0";
  veth.mtu = 1400;
  Link uplink;
  uplink.scope = "host";
  uplink.name = "eth0";
  uplink.kind = LinkKind::Existing;
  CHECK(r.state.of<Link>() == std::vector<Link>{veth, uplink});

  Address addr{"host", hv, P("fd00:1::1/64"), true};
  CHECK(r.state.of<Address>() == std::vector<Address>{addr});

  Route host32;
  host32.scope = "host";
  host32.dst = P("10.10.20.50/32");
  host32.dev = hv;
  host32.route_scope = RouteScope::Link;  // as ip-route(8) picks for a route without a gateway
  Route extra;
  extra.scope = "host";
  extra.table = 10007;
  extra.dst = P("10.50.0.0/16");
  extra.metric = 10;
  extra.gateway = A("10.10.20.1");
  extra.src = A("10.10.20.50");
  extra.onlink = true;
  Route blackhole;
  blackhole.scope = "host";
  blackhole.dst = P("10.99.0.0/16");
  blackhole.type = RouteType::Blackhole;
  Route local;
  local.scope = "host";
  local.table = kTableLocal;
  local.dst = P("fd00:2::/64");
  local.dev = hv;
  local.type = RouteType::Local;
  local.route_scope = RouteScope::Host;
  Route c32;
  c32.scope = "container";
  c32.dst = P("192.168.1.10/32");
  c32.dev = "veth0";
  c32.route_scope = RouteScope::Link;
  Route cdef;
  cdef.scope = "container";
  cdef.dst = P("0.0.0.0/0");
  cdef.gateway = A("192.168.1.10");
  cdef.dev = "veth0";
  cdef.takeover = true;
  Route cdef6;
  cdef6.scope = "container";
  cdef6.dst = P("::/0");
  cdef6.gateway = A("fd00::1");
  cdef6.dev = "veth0";
  REQUIRE(r.state.of<Route>().size() == 7);
  CHECK(r.state.of<Route>() == std::vector<Route>{host32, extra, blackhole, local, c32, cdef, cdef6});
  CHECK(r.state.of<Route>()[5].takeover);  // not part of operator==

  Rule r1;
  r1.scope = "host";
  r1.priority = 1000;
  r1.iif = hv;
  r1.table = 10007;
  Rule r2;
  r2.scope = "host";
  r2.family = Family::V6;
  r2.priority = 1001;
  r2.to = P("fd00::/8");
  r2.fwmark = 0x10;
  r2.fwmask = 0xff;
  r2.table = kTableMain;
  CHECK(r.state.of<Rule>() == std::vector<Rule>{r1, r2});

  NatEntry masq;
  masq.scope = "host";
  masq.action = NatAction::Masquerade;
  masq.oif = "eth0";
  masq.saddr = P("10.10.20.0/24");
  masq.daddr = P("10.10.20.0/24");
  masq.daddr_not = true;
  NatEntry dnat;
  dnat.scope = "host";
  dnat.action = NatAction::Dnat;
  dnat.iif = "lo";
  dnat.iif_not = true;
  dnat.daddr = P("192.168.1.10/32");
  dnat.to = A("10.10.20.50");
  CHECK(r.state.of<NatEntry>() == std::vector<NatEntry>{masq, dnat});

  CHECK(r.state.of<Sysctl>() == std::vector<Sysctl>{{"host", "net.ipv4.conf." + hv + ".forwarding", "1", {}}});
  CHECK(r.state.size() == 2 + 1 + 7 + 2 + 2 + 1);
}

TEST_CASE("arithmetic and where in typed fields: a rule per address of this interface") {
  test::FakeAllocator alloc;
  RenderContext ctx;
  ctx.config = {{"rulePriority", 1000}};
  ctx.cni = {{"containerId", "c1"}, {"ifname", "eth1"}, {"attachment", "c1/eth1"}};
  ctx.prev = {{"cniVersion", "1.0.0"},
              {"interfaces", {{{"name", "eth1"}}, {{"name", "eth2"}}}},
              {"ips",
               {{{"address", "10.10.20.50/24"}, {"gateway", "10.10.20.1"}, {"interface", 0}},
                {{"address", "10.30.0.5/24"}, {"interface", 1}},
                {{"address", "fd00::50/64"}, {"interface", 0}},
                {{"address", "10.10.21.50/24"}, {"interface", 0}},
                {{"address", "fd00::51/64"}, {"interface", 0}}}}};  // index 3 and IPv6: skipped by when
  ctx.allocator = &alloc;
  auto r = render(R"(
parameters:
  rulePriority: {type: int, default: 100, min: 2, max: 32765}
allocate:
  tbl: {kind: table, range: [10000, 59999]}
host:
  rules:
    - loop: prev.ips | where('interface', cni.ifname)
      when: index < 2 or item | family == 4
      priority: "${ params.rulePriority - index }"
      from: "${ item.address | host }"
      table: "${ alloc.tbl + index * 10 }"
  sysctls:
    - {name: "${ 'net.ipv4.conf.' + cni.ifname + '.forwarding' }", value: 1}
    - {name: net.count, value: "${ (prev.ips | where('gateway') | length) + 1 }"}
)",
                  ctx);
  std::vector<std::string> got;
  for (auto& rule : r.state.of<Rule>())
    got.push_back(fmt::format("{} from {} table {}", rule.priority, rule.from->str(), rule.table));
  CHECK(got == std::vector<std::string>{"1000 from 10.10.20.50/32 table 10007",
                                        "999 from fd00::50/128 table 10017",
                                        "998 from 10.10.21.50/32 table 10027"});
  REQUIRE(r.state.of<Sysctl>().size() == 2);
  CHECK(r.state.of<Sysctl>()[0].name == "net.ipv4.conf.eth1.forwarding");
  CHECK(r.state.of<Sysctl>()[1].value == "2");
}

TEST_CASE("prev is normalised from a CNI prevResult") {
  json prev = {{"cniVersion", "1.0.0"},
               {"interfaces", {{{"name", "eth1"}}, {{"name", "lo"}}}},
               {"ips",
                {{{"address", "10.0.0.2/24"}, {"gateway", "10.0.0.1"}, {"interface", 1}},
                 {{"address", "fd00::2/64"}}}},
               {"routes", {{{"dst", "10.1.0.0/16"}}, {{"dst", "0.0.0.0/0"}, {"gw", "10.0.0.1"}}}},
               {"dns", json::object()}};
  json want = {
      {"ips",
       {{{"address", "10.0.0.2/24"}, {"gateway", "10.0.0.1"}, {"interface", "lo"}, {"family", 4}},
        {{"address", "fd00::2/64"}, {"gateway", nullptr}, {"interface", nullptr}, {"family", 6}}}},
      {"routes", {{{"dst", "10.1.0.0/16"}, {"gw", nullptr}}, {{"dst", "0.0.0.0/0"}, {"gw", "10.0.0.1"}}}},
      {"interfaces", prev["interfaces"]}};
  CHECK(tmpl::normalize_prev(prev) == want);
  CHECK(tmpl::normalize_prev(want) == want);  // idempotent
  CHECK(tmpl::normalize_prev(nullptr) ==
        json{{"ips", json::array()}, {"routes", json::array()}, {"interfaces", json::array()}});

  auto bad = [](json p) -> std::string {
    try {
      tmpl::normalize_prev(p);
    } catch (const SpecError& e) {
      return e.what();
    }
    return "(no error)";
  };
  CHECK(bad({{"ips", {{{"address", "10.0.0.300/24"}}}}}) ==
        "<network config>: prevResult.ips[0].address: expected an IP address or CIDR, found '10.0.0.300/24' "
        "(string)");
  CHECK(bad({{"ips", {{{"address", "10.0.0.3/24"}, {"interface", 2}}}}}) ==
        "<network config>: prevResult.ips[0].interface: index 2 but prevResult has 0 interface(s)");
  CHECK(bad({{"routes", "x"}}) == "<network config>: prevResult.routes: expected a list, found 'x' (string)");

  // Through a template: the first IP's interface name and the gateway-less route.
  auto r = render(R"(
host:
  sysctls:
    - {name: net.x, value: "${ prev.ips[0].interface }/${ prev.routes[0].gw | default('none') }"}
)",
                  RenderContext{{}, {}, prev, nullptr, nullptr});
  CHECK(r.state.of<Sysctl>()[0].value == "lo/none");
}

TEST_CASE("specs/veth-to-host.yaml renders the lyft unnumbered-ptp topology") {
  std::ifstream in(std::string(TOPO_SOURCE_DIR) + "/specs/veth-to-host.yaml");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  Template t = Template::load({"veth-to-host", "specs/veth-to-host.yaml", text.str()});
  test::FakeFacts facts;
  facts.addrs["ens3"] = {"192.168.1.10/24"};
  test::FakeAllocator alloc;
  RenderContext ctx;
  ctx.config = {{"cniVersion", "1.0.0"},
                {"name", "pods"},
                {"type", "veth-to-host"},
                {"hostInterface", "ens3"},
                {"ipMasq", true}};
  ctx.cni = {{"containerId", "c1"}, {"ifname", "eth0"}, {"netns", "/run/netns/c1"},
             {"network", "pods"},   {"command", "ADD"}, {"attachment", "c1/eth0"}};
  ctx.prev = {{"interfaces", {{{"name", "eth0"}, {"sandbox", "/run/netns/c1"}}}},
              {"ips", {{{"address", "10.10.20.50/24"}, {"gateway", "10.10.20.1"}, {"interface", 0}}}},
              {"routes", {{{"dst", "0.0.0.0/0"}, {"gw", "10.10.20.1"}}, {{"dst", "10.96.0.0/12"}}}}};
  ctx.facts = &facts;
  ctx.allocator = &alloc;
  Rendered r = t.render(ctx);
  std::string hv = r.state.of<Link>().at(0).name;
  CHECK(hv.size() == 15);
  CHECK(hv.rfind("veth", 0) == 0);
  CHECK(t.render(ctx).state.of<Link>().at(0).name == hv);  // stable for one attachment
  ctx.cni["attachment"] = "c2/eth0";
  CHECK(t.render(ctx).state.of<Link>().at(0).name != hv);

  std::vector<std::string> got;
  for (auto& l : r.state.of<Link>())
    got.push_back(fmt::format("{} link {} peer {}/{}", l.scope, l.name, l.peer_scope, l.peer_name));
  for (auto& s : r.state.of<Sysctl>()) got.push_back(fmt::format("{} sysctl {}={}", s.scope, s.name, s.value));
  for (auto& rt : r.state.of<Route>())
    got.push_back(fmt::format("{} route {} via {} dev {} table {} scope {}{}{}", rt.scope, rt.dst.str(),
                              rt.gateway ? rt.gateway->str() : "-", rt.dev, rt.table,
                              static_cast<int>(rt.route_scope), rt.takeover ? " takeover" : "",
                              rt.onlink ? " onlink" : ""));
  for (auto& ru : r.state.of<Rule>())
    got.push_back(fmt::format("{} rule {} iif {} table {}", ru.scope, ru.priority, ru.iif, ru.table));
  for (auto& n : r.state.of<NatEntry>())
    got.push_back(fmt::format("{} nat {} iif {} oif {} daddr {}{} to {}", n.scope, static_cast<int>(n.action),
                              n.iif, n.oif, n.daddr_not ? "!=" : "", n.daddr ? n.daddr->str() : "-",
                              n.to ? n.to->str() : "-"));
  std::vector<std::string> want = {
      "host link " + hv + " peer container/veth0",
      "host sysctl net.ipv4.conf." + hv + ".forwarding=1",
      "host sysctl net.ipv4.conf." + hv + ".rp_filter=2",
      "container sysctl net.ipv4.conf.veth0.forwarding=1",
      "container sysctl net.ipv4.conf.eth0.forwarding=1",
      "container sysctl net.ipv4.conf.eth0.rp_filter=2",
      "host route 10.10.20.50/32 via - dev " + hv + " table 254 scope 253",
      "host route 10.10.20.0/24 via 10.10.20.50 dev " + hv + " table 10007 scope 0 onlink",
      "host route 10.96.0.0/12 via 10.10.20.50 dev " + hv + " table 10007 scope 0 onlink",
      "container route 192.168.1.10/32 via - dev veth0 table 254 scope 253",
      "container route 0.0.0.0/0 via 192.168.1.10 dev veth0 table 254 scope 0 takeover",
      "host rule 1000 iif " + hv + " table 10007",
      "host nat 1 iif " + hv + " oif " + hv + " daddr !=10.10.20.50/32 to 192.168.1.10",
      "container nat 0 iif veth0 oif eth0 daddr - to -",
  };
  CHECK(got == want);
  CHECK(!r.state.of<Link>()[0].mtu);

  // Without ipMasq there is no NAT; mtu reaches the link.
  ctx.config["ipMasq"] = false;
  ctx.config["mtu"] = 9000;
  Rendered plain = t.render(ctx);
  CHECK(plain.state.of<NatEntry>().empty());
  CHECK(plain.state.of<Link>()[0].mtu == 9000u);
}

TEST_CASE("specs/veth-to-host.yaml for a dual-stack pod: link-local next hops, ip6 rule and NAT") {
  std::ifstream in(std::string(TOPO_SOURCE_DIR) + "/specs/veth-to-host.yaml");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  Template t = Template::load({"veth-to-host", "specs/veth-to-host.yaml", text.str()});
  test::FakeFacts facts;
  facts.addrs["ens3"] = {"192.168.1.10/24", "fd00:1::10/64"};
  test::FakeAllocator alloc;
  RenderContext ctx;
  ctx.config = {{"cniVersion", "1.0.0"}, {"name", "pods"}, {"type", "veth-to-host"},
                {"hostInterface", "ens3"}, {"ipMasq", true}};
  ctx.cni = {{"containerId", "c1"}, {"ifname", "eth0"}, {"netns", "/run/netns/c1"},
             {"network", "pods"},   {"command", "ADD"}, {"attachment", "c1/eth0"}};
  ctx.prev = {{"interfaces", {{{"name", "eth0"}, {"sandbox", "/run/netns/c1"}}}},
              {"ips",
               {{{"address", "10.10.20.50/24"}, {"gateway", "10.10.20.1"}, {"interface", 0}},
                {{"address", "fd00:1::50/64"}, {"gateway", "fd00:1::fe"}, {"interface", 0}}}},
              {"routes",
               {{{"dst", "0.0.0.0/0"}}, {{"dst", "::/0"}}, {{"dst", "fd00:96::/112"}}}}};
  ctx.facts = &facts;
  ctx.allocator = &alloc;
  Rendered r = t.render(ctx);
  std::string hv = r.state.of<Link>().at(0).name;

  std::vector<std::string> got;
  for (auto& a : r.state.of<Address>())
    got.push_back(fmt::format("{} address {} dev {}{}", a.scope, a.local.str(), a.dev, a.nodad ? " nodad" : ""));
  for (auto& s : r.state.of<Sysctl>())
    if (s.name.find("ipv6") != std::string::npos)
      got.push_back(fmt::format("{} sysctl {}={}", s.scope, s.name, s.value));
  for (auto& rt : r.state.of<Route>())
    if (rt.family() == Family::V6)
      got.push_back(fmt::format("{} route {} via {} dev {} table {}{}", rt.scope, rt.dst.str(),
                                rt.gateway ? rt.gateway->str() : "-", rt.dev, rt.table,
                                rt.takeover ? " takeover" : ""));
  for (auto& ru : r.state.of<Rule>())
    got.push_back(fmt::format("{} rule {} {} iif {} table {}", ru.scope, family_name(ru.family), ru.priority,
                              ru.iif, ru.table));
  for (auto& n : r.state.of<NatEntry>())
    if (n.family == Family::V6)
      got.push_back(fmt::format("{} nat {} iif {} oif {} daddr {}{} to {}", n.scope,
                                static_cast<int>(n.action), n.iif, n.oif, n.daddr_not ? "!=" : "",
                                n.daddr ? n.daddr->str() : "-", n.to ? n.to->str() : "-"));
  std::vector<std::string> want = {
      "host address fe80::1/64 dev " + hv + " nodad",
      "container address fe80::2/64 dev veth0 nodad",
      "host sysctl net.ipv6.conf." + hv + ".forwarding=1",
      "container sysctl net.ipv6.conf.all.forwarding=1",
      "host route fd00:1::50/128 via fe80::2 dev " + hv + " table 254",
      "host route fd00:1::/64 via fe80::2 dev " + hv + " table 10007",
      "host route fd00:96::/112 via fe80::2 dev " + hv + " table 10007",
      "container route fd00:1::10/128 via fe80::1 dev veth0 table 254",
      "container route ::/0 via fe80::1 dev veth0 table 254 takeover",
      "host rule " + std::string(family_name(Family::V4)) + " 1000 iif " + hv + " table 10007",
      "host rule " + std::string(family_name(Family::V6)) + " 1000 iif " + hv + " table 10007",
      "host nat 1 iif " + hv + " oif " + hv + " daddr !=fd00:1::50/128 to fd00:1::10",
      "container nat 0 iif veth0 oif eth0 daddr - to -",
  };
  CHECK(got == want);
  // The IPv4 half is what an IPv4-only pod gets: 6 routes, 3 of them IPv4 host/table routes, 2 in the pod.
  size_t v4_routes = 0;
  for (auto& rt : r.state.of<Route>()) v4_routes += rt.family() == Family::V4;
  CHECK(v4_routes == 4);

  // An IPv6-only pod gets no IPv4 routes in the pod and no IPv4 host routes.
  ctx.prev["ips"].erase(0);
  Rendered v6 = t.render(ctx);
  for (auto& rt : v6.state.of<Route>()) CHECK(rt.family() == Family::V6);
}

TEST_CASE("state: absent on a route renders only its key, marked absent") {
  auto r = render(R"(
host:
  routes:
    - {dst: default, state: absent}
    - {dst: "::/0", table: 100, metric: 5, state: absent}
    - {dst: 10.0.0.0/8, dev: eth0, state: present}
)");
  REQUIRE(r.state.of<Route>().size() == 3);
  CHECK(r.state.of<Route>()[0].absent);
  CHECK(r.state.of<Route>()[0].dst == P("0.0.0.0/0"));
  CHECK(r.state.of<Route>()[0].table == kTableMain);
  CHECK(r.state.of<Route>()[0].dev.empty());
  CHECK(r.state.of<Route>()[1].absent);
  CHECK(r.state.of<Route>()[1].dst == P("::/0"));
  CHECK(r.state.of<Route>()[1].table == 100);
  CHECK(r.state.of<Route>()[1].metric == 5);
  CHECK_FALSE(r.state.of<Route>()[2].absent);
}

TEST_CASE("state: absent refuses attributes outside the route's key") {
  auto fails = [](const std::string& yaml) { return test::spec_error_of([&] { render(yaml); }); };
  auto e = fails("host:\n  routes:\n    - {dst: default, dev: eth0, state: absent}\n");
  CHECK(e.path == "host.routes[0].dev");
  CHECK(e.line == 3);
  CHECK(e.message.find("state: absent") != std::string::npos);
  auto s = fails("host:\n  routes:\n    - {dst: default, state: gone}\n");
  CHECK(s.path == "host.routes[0].state");
  CHECK(s.message == "expected one of present, absent, found 'gone' (string)");
}

TEST_CASE("allocations: scope and pick reach the allocator; `for:` gives one table per item, indexed by index") {
  test::FakeAllocator alloc;
  alloc.next = 100;
  RenderContext ctx;
  ctx.cni = {{"ifname", "eth0"}, {"attachment", "a"}};
  ctx.prev = {{"cniVersion", "1.0.0"},
              {"ips", {{{"address", "10.10.20.50/24"}}, {{"address", "fd00::50/64"}}}}};
  ctx.allocator = &alloc;
  auto r = render(R"(
allocate:
  node: {kind: table, range: [1000, 2000]}
  low: {kind: table, range: [1000, 2000], pick: lowest}
  perAddress: {kind: table, range: [100, 252], scope: container, for: prev.ips}
  none: {kind: table, range: [100, 252], scope: container, for: "[]"}
container:
  rules:
    - loop: prev.ips
      priority: 1000
      from: "${ item | host }"
      table: "${ alloc.perAddress[index] }"
)",
                  ctx);
  CHECK(alloc.calls == std::vector<std::string>{"node:1000-2000", "low:1000-2000:lowest", "perAddress:100-252:containerx2"});
  CHECK(r.allocations == json{{"node", 100}, {"low", 101}, {"perAddress", {102, 103}}, {"none", json::array()}});
  REQUIRE(r.state.of<Rule>().size() == 2);
  CHECK(r.state.of<Rule>()[0].table == 102);
  CHECK(r.state.of<Rule>()[1].table == 103);
}
