// The template library (specs/sbr.yaml, specs/route-override.yaml, specs/underlay-service.yaml) rendered
// with fake facts: what each one asks for, object by object. The end-to-end tests (tests/e2e/test_<name>.sh)
// prove the same objects work in a kernel.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "template_fakes.h"
#include "topo/error.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;

namespace {

Template load_spec(const std::string& name) {
  std::ifstream in(std::string(TOPO_SOURCE_DIR) + "/specs/" + name + ".yaml");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return Template::load({name, "specs/" + name + ".yaml", text.str()});
}

// macvlan + host-local's result for one IPv4 address, as the lab's pods get it.
json macvlan_prev(const char* addr = "10.10.20.50/24", const char* gw = "10.10.20.254") {
  return {{"interfaces", {{{"name", "eth0"}, {"sandbox", "/run/netns/c1"}}}},
          {"ips", {{{"address", addr}, {"gateway", gw}, {"interface", 0}}}},
          {"routes", {{{"dst", "0.0.0.0/0"}}}}};
}

struct Fixture {
  test::FakeFacts facts;
  test::FakeAllocator alloc;
  RenderContext ctx;
  explicit Fixture(json config, json prev = macvlan_prev()) {
    facts.addrs["enp5s0f0"] = {"10.10.20.1/24"};
    alloc.next = 100;
    ctx.config = std::move(config);
    ctx.config["cniVersion"] = "0.3.1";
    ctx.config["name"] = "cni0";
    ctx.cni = {{"containerId", "c1"}, {"ifname", "eth0"}, {"netns", "/run/netns/c1"},
               {"network", "cni0"},   {"command", "ADD"}, {"attachment", "c1/eth0"}};
    ctx.prev = std::move(prev);
    ctx.facts = &facts;
    ctx.allocator = &alloc;
  }
};

// One line per route: "absent 0.0.0.0/0 table 254 metric 0" or "10.10.20.0/24 via - dev eth0 table 100 ...".
std::vector<std::string> routes(const State& s) {
  std::vector<std::string> out;
  for (const Route& r : s.of<Route>()) {
    if (r.absent) {
      out.push_back(fmt::format("{} absent {} table {} metric {}", r.scope, r.dst.str(), r.table, r.metric));
    } else {
      out.push_back(fmt::format("{} {} via {} dev {} table {} metric {}{}{}", r.scope, r.dst.str(),
                                r.gateway ? r.gateway->str() : "-", r.dev, r.table, r.metric,
                                r.src ? " src " + r.src->str() : "", r.takeover ? " takeover" : ""));
    }
  }
  return out;
}

std::vector<std::string> rules(const State& s) {
  std::vector<std::string> out;
  for (const Rule& r : s.of<Rule>()) {
    out.push_back(fmt::format("{} {} from {} to {} iif {} lookup {}", r.scope, r.priority,
                              r.from ? r.from->str() : "all", r.to ? r.to->str() : "all",
                              r.iif.empty() ? "-" : r.iif, r.table));
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("sbr: a rule for the pod address, its routes moved from main into the table") {
  Template t = load_spec("sbr");
  Fixture f(json{{"type", "sbr-topo"}, {"template", "sbr"}});
  Rendered r = t.render(f.ctx);
  // A table per address, the lowest free in the pod; no IPv6 address, so no IPv6 table is asked for.
  CHECK(f.alloc.calls == std::vector<std::string>{"tables4:100-252:container"});
  CHECK(rules(r.state) == std::vector<std::string>{"container 32765 from 10.10.20.50/32 to all iif - lookup 100"});
  CHECK(routes(r.state) == std::vector<std::string>{
                               "container 0.0.0.0/0 via 10.10.20.254 dev eth0 table 100 metric 0",
                               "container absent 10.10.20.0/24 table 254 metric 0",
                               "container 10.10.20.0/24 via - dev eth0 table 100 metric 0 src 10.10.20.50",
                               "container absent 0.0.0.0/0 table 254 metric 0",
                               "container 0.0.0.0/0 via 10.10.20.254 dev eth0 table 100 metric 0",
                               "container fe80::/64 via - dev eth0 table 100 metric 256",
                               "container absent fe80::/64 table 254 metric 256",
                           });
  CHECK(r.state.of<Link>().empty());
  CHECK(r.state.of<NatEntry>().empty());
  // The connected route keeps the kernel's link scope in its new table.
  CHECK(r.state.of<Route>()[2].route_scope == RouteScope::Link);
}

TEST_CASE("sbr: only addresses of CNI_IFNAME; no gateway, no default route; IPv6 metrics; opt-out of fe80") {
  json prev = {{"interfaces", {{{"name", "eth0"}, {"sandbox", "/n"}}, {{"name", "net1"}, {"sandbox", "/n"}}}},
               {"ips",
                {{{"address", "10.1.0.5/24"}, {"interface", 0}},
                 {{"address", "10.2.0.5/24"}, {"gateway", "10.2.0.1"}, {"interface", 1}},
                 {{"address", "fd00:1::5/64"}, {"gateway", "fd00:1::1"}, {"interface", 0}}}},
               {"routes", json::array()}};
  Template t = load_spec("sbr");
  Fixture f(json{{"type", "sbr"}, {"moveLinkLocal", false}, {"rulePriority", 200}}, prev);
  Rendered r = t.render(f.ctx);
  CHECK(rules(r.state) == std::vector<std::string>{"container 200 from 10.1.0.5/32 to all iif - lookup 100",
                                                   "container 200 from fd00:1::5/128 to all iif - lookup 101"});
  auto rs = routes(r.state);
  CHECK_FALSE(has(rs, "container 0.0.0.0/0 via 10.2.0.1 dev eth0 table 100 metric 0"));  // net1's gateway
  CHECK(has(rs, "container absent 10.1.0.0/24 table 254 metric 0"));
  CHECK_FALSE(has(rs, "container absent 10.2.0.0/24 table 254 metric 0"));
  CHECK(has(rs, "container ::/0 via fd00:1::1 dev eth0 table 101 metric 1024"));
  CHECK(has(rs, "container absent fd00:1::/64 table 254 metric 256"));
  CHECK(has(rs, "container fd00:1::/64 via - dev eth0 table 101 metric 256"));
  // The IPv6 connected route has no source and no gateway: the reference copies it into the IPv4 table too.
  CHECK(has(rs, "container fd00:1::/64 via - dev eth0 table 100 metric 256"));
  CHECK(std::none_of(rs.begin(), rs.end(), [](const std::string& s) { return s.find("fe80") != s.npos; }));
}

TEST_CASE("sbr: a table per address and the kernel's automatic priorities, per family") {
  json prev = {{"interfaces", {{{"name", "eth0"}, {"sandbox", "/n"}}}},
               {"ips",
                {{{"address", "10.1.0.5/24"}, {"gateway", "10.1.0.1"}, {"interface", 0}},
                 {{"address", "10.3.0.5/24"}, {"gateway", "10.3.0.1"}},  // no interface: CNI_IFNAME's
                 {{"address", "fd00:1::5/64"}, {"interface", 0}}}},
               {"routes", json::array()}};
  Template t = load_spec("sbr");
  Fixture f(json{{"type", "sbr"}}, prev);
  Rendered r = t.render(f.ctx);
  CHECK(f.alloc.calls == std::vector<std::string>{"tables4:100-252:containerx2", "tables6:100-252:container"});
  CHECK(rules(r.state) == std::vector<std::string>{"container 32765 from 10.1.0.5/32 to all iif - lookup 100",
                                                   "container 32764 from 10.3.0.5/32 to all iif - lookup 101",
                                                   "container 32765 from fd00:1::5/128 to all iif - lookup 102"});
  auto rs = routes(r.state);
  CHECK(has(rs, "container 0.0.0.0/0 via 10.1.0.1 dev eth0 table 100 metric 0"));
  CHECK(has(rs, "container 0.0.0.0/0 via 10.3.0.1 dev eth0 table 101 metric 0"));
  CHECK(has(rs, "container 10.3.0.0/24 via - dev eth0 table 101 metric 0 src 10.3.0.5"));
  for (const char* table : {"100", "101", "102"})
    CHECK(has(rs, fmt::format("container fe80::/64 via - dev eth0 table {} metric 256", table)));
}

TEST_CASE("route-override: flush, delete, add (takeover), flush gateway, in the reference's order") {
  Template t = load_spec("route-override");
  SUBCASE("nothing asked, nothing rendered") {
    Fixture f(json{{"type", "route-override"}});
    CHECK(t.render(f.ctx).state.empty());
  }
  SUBCASE("delroutes + addroutes with and without gw") {
    Fixture f(json{{"type", "route-override"},
               {"delroutes", {{{"dst", "0.0.0.0/0"}}, {{"dst", "fd00:9::/64"}}}},
               {"addroutes", {{{"dst", "192.0.2.0/24"}, {"gw", "10.10.20.2"}}, {{"dst", "198.51.100.0/24"}}}}});
    CHECK(routes(t.render(f.ctx).state) ==
          std::vector<std::string>{"container absent 0.0.0.0/0 table 254 metric 0",
                                   "container absent fd00:9::/64 table 254 metric 1024",
                                   "container 192.0.2.0/24 via 10.10.20.2 dev eth0 table 254 metric 0 takeover",
                                   "container 198.51.100.0/24 via 10.10.20.254 dev eth0 table 254 metric 0 takeover"});
  }
  SUBCASE("flushroutes names prevResult's routes; flushgateway drops an added default route") {
    Fixture f(json{{"type", "route-override"},
               {"flushroutes", true},
               {"flushgateway", true},
               {"addroutes", {{{"dst", "0.0.0.0/0"}, {"gw", "10.10.20.2"}}, {{"dst", "198.51.100.0/24"}}}}});
    CHECK(routes(t.render(f.ctx).state) ==
          std::vector<std::string>{"container absent 0.0.0.0/0 table 254 metric 0",
                                   "container 198.51.100.0/24 via 10.10.20.254 dev eth0 table 254 metric 0 takeover",
                                   "container absent 0.0.0.0/0 table 254 metric 0",
                                   "container absent ::/0 table 254 metric 1024"});
  }
  SUBCASE("a string where the reference's README writes one is a config error naming the key") {
    Fixture f(json{{"type", "route-override"}, {"flushroutes", "true"}});
    try {
      (void)t.render(f.ctx);
      FAIL("rendered a string as a bool");
    } catch (const SpecError& e) {
      CHECK(std::string(e.what()).find("config.flushroutes") != std::string::npos);
    }
  }
}

TEST_CASE("underlay-service: default route untouched; configured CIDRs and node addresses over the veth") {
  Template t = load_spec("underlay-service");
  Fixture f(json{{"type", "underlay-service"},
                 {"hostInterface", "enp5s0f0"},
                 {"serviceCIDRs", {"10.96.0.0/16"}},
                 {"clusterCIDRs", {"10.244.0.0/16"}},
                 {"extraCIDRs", {"169.254.20.10/32"}}});
  f.facts.addrs["enp5s0f0"] = {"10.10.20.1/24", "10.10.21.1/24"};
  Rendered r = t.render(f.ctx);
  std::vector<std::string> pod;
  for (const std::string& s : routes(r.state))
    if (s.rfind("container", 0) == 0) pod.push_back(s);
  CHECK(pod == std::vector<std::string>{"container 10.10.20.1/32 via - dev veth0 table 254 metric 0",
                                        "container 10.10.21.1/32 via - dev veth0 table 254 metric 0",
                                        "container 10.96.0.0/16 via 10.10.20.1 dev veth0 table 254 metric 0",
                                        "container 10.244.0.0/16 via 10.10.20.1 dev veth0 table 254 metric 0",
                                        "container 169.254.20.10/32 via 10.10.20.1 dev veth0 table 254 metric 0"});
  CHECK(std::none_of(r.state.of<Route>().begin(), r.state.of<Route>().end(),
                     [](const Route& x) { return x.takeover || x.absent || x.dst.is_default(); }));
  CHECK(rules(r.state).size() == 1);
  CHECK(r.state.of<NatEntry>().size() == 2);  // ipMasq defaults to true: node snat + pod masquerade
}

// ptp's result as the tuning and vrf plugins get it: the node's veth end, then the pod's eth0.
json ptp_prev() {
  return {{"interfaces", {{{"name", "veth1d1838ee"}, {"mac", "1e:96:17:72:b6:45"}},
                          {{"name", "eth0"}, {"mac", "6e:5f:67:0d:c8:65"}, {"sandbox", "/run/netns/c1"}}}},
          {"ips", {{{"address", "10.1.1.2/24"}, {"gateway", "10.1.1.1"}, {"interface", 1}}}}};
}

TEST_CASE("tuning: the previous plugin's interface changed as far as the config asks, sysctls with IFNAME, the result") {
  Template t = load_spec("tuning");
  SUBCASE("every key") {
    Fixture f({{"mtu", 1400}, {"mac", "02:11:22:33:44:55"}, {"promisc", true}, {"allmulti", false},
               {"sysctl", {{"net.ipv4.conf.IFNAME.arp_filter", "1"}, {"net.core.somaxconn", "500"}}}},
              ptp_prev());
    Rendered r = t.render(f.ctx);
    REQUIRE(r.state.of<Link>().size() == 1);
    CHECK(describe(r.state.of<Link>()[0]) ==
          "link eth0 (existing) mtu 1400 address 02:11:22:33:44:55 promisc on allmulticast off");
    CHECK(r.state.of<Link>()[0].scope == "container");
    const auto& s = r.state.of<Sysctl>();
    REQUIRE(s.size() == 2);
    CHECK(s[0].name == "net.core.somaxconn");
    CHECK(s[0].value == "500");
    CHECK(s[1].name == "net.ipv4.conf.eth0.arp_filter");
    // prevResult's interfaces in order, by scope (the MAC is the kernel's after ADD).
    CHECK(r.result["interfaces"] == json::parse(R"([{"name":"veth1d1838ee","scope":"host"},{"name":"eth0","scope":"container"}])"));
    CHECK_FALSE(r.result.contains("ips"));  // passed through, so its interface indexes stay valid
  }
  SUBCASE("sysctls only: the link is a reference, nothing to change on it") {
    Fixture f({{"sysctl", {{"net.core.somaxconn", "500"}}}}, ptp_prev());
    Rendered r = t.render(f.ctx);
    REQUIRE(r.state.of<Link>().size() == 1);
    CHECK_FALSE(changes_existing(r.state.of<Link>()[0]));
  }
  SUBCASE("refusals are code 7 material: config errors or the template's assertions, naming the key") {
    auto refusal = [&](json config, json prev = ptp_prev()) {
      Fixture f(std::move(config), std::move(prev));
      try {
        t.render(f.ctx);
      } catch (const TemplateAssertionError& e) {
        return e.message;
      } catch (const SpecError& e) {
        return e.file + ": " + e.path + ": " + e.message;
      }
      return std::string("no error");
    };
    CHECK(refusal({{"sysctl", {{"kernel.panic", "1"}}}}) ==
          "sysctl: invalid net sysctl key 'kernel.panic': only net.* sysctls belong to the pod's network namespace");
    CHECK(refusal({{"sysctl", {{"net..x", "1"}}}}).starts_with("sysctl: 'net..x' is not a dotted sysctl name"));
    CHECK(refusal({{"sysctl", {{"net/ipv4/ip_forward", "1"}}}}).starts_with("sysctl: 'net/ipv4/ip_forward' is not a dotted"));
    CHECK(refusal({{"sysctl", "net.core.somaxconn=1"}}).find("config.sysctl") != std::string::npos);
    CHECK(refusal({{"mac", "01:00:5e:00:00:01"}}).find("config.mac") != std::string::npos);
    CHECK(refusal({{"mtu", 0}}).find("config.mtu") != std::string::npos);
    CHECK(refusal({{"runtimeConfig", {{"mac", "02:00:00:00:00:01"}}}}).starts_with("runtimeConfig.mac:"));
    CHECK(refusal({{"args", {{"cni", {{"mtu", 1400}}}}}}).starts_with("args.cni:"));
    CHECK(refusal({{"mtu", 1400}}, nullptr).starts_with("prevResult:"));
    CHECK(refusal({{"runtimeConfig", {{"portMappings", json::array()}}}}) == "no error");  // other runtime keys: not tuning's
  }
}

TEST_CASE("vrf: a VRF in the pod, the previous plugin's interface enslaved to it; the lowest free table by default") {
  Template t = load_spec("vrf");
  auto links = [](const Rendered& r) {
    std::vector<std::string> out;
    for (const Link& l : r.state.of<Link>()) out.push_back(l.scope + " " + describe(l));
    return out;
  };
  SUBCASE("vrfname and table") {
    Fixture f({{"vrfname", "blue"}, {"table", 1001}}, ptp_prev());
    f.facts.kinds = {"vrf"};
    Rendered r = t.render(f.ctx);
    CHECK(links(r) == std::vector<std::string>{"container link blue type vrf table 1001",
                                               "container link eth0 (existing) master blue"});
    CHECK(r.result.is_null());  // no `result:`: prevResult passes through
  }
  SUBCASE("no table: the allocator's lowest free one in the pod") {
    Fixture f({{"vrfname", "blue"}}, ptp_prev());
    f.facts.kinds = {"vrf"};
    f.alloc.next = 1;
    Rendered r = t.render(f.ctx);
    CHECK(f.alloc.calls == std::vector<std::string>{"vrfTable:1-252:container"});
    CHECK(links(r)[0] == "container link blue type vrf table 1");
  }
  SUBCASE("refused with the reason, before anything renders") {
    auto refusal = [&](json config, std::vector<std::string> kinds, json prev = ptp_prev()) {
      Fixture f(std::move(config), std::move(prev));
      f.facts.kinds = std::move(kinds);
      try {
        t.render(f.ctx);
      } catch (const TemplateAssertionError& e) {
        return e.message;
      } catch (const SpecError& e) {
        return e.path + ": " + e.message;
      }
      return std::string("no error");
    };
    CHECK(refusal({{"vrfname", "blue"}}, {}) == "this node's kernel has no VRF support: the vrf template cannot serve it");
    CHECK(refusal(json::object(), {"vrf"}) == "config.vrfname: the template needs the parameter 'vrfname' (ifname)");
    CHECK(refusal({{"vrfname", "blue"}, {"table", 0}}, {"vrf"}).starts_with("config.table:"));
    CHECK(refusal({{"vrfname", "eth0"}}, {"vrf"}).starts_with("vrfname: the VRF cannot be the pod's interface eth0"));
    json v6 = ptp_prev();
    v6["ips"].push_back({{"address", "fd00::2/64"}, {"interface", 1}});
    CHECK(refusal({{"vrfname", "blue"}}, {"vrf"}, v6).starts_with("prevResult: the vrf template serves IPv4 addresses only"));
  }
}
