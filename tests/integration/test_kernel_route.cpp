// Routes: custom tables with gateway + onlink, IPv6 metric normalisation, replace, delete, foreign routes.
#include <doctest/doctest.h>

#include "netns_fixture.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

struct RouteFixture {
  TwoScopes ns;
  RouteFixture() {
    ns.host_ns.ip("link add va type veth peer name vb");
    ns.host_ns.ip("link set va up");
    ns.host_ns.ip("link set vb up");
    ns.host_ns.ip("addr add 10.0.0.1/24 dev va");
  }
};

Route route(const char* dst, const char* dev = "va") {
  Route r;
  r.scope = "host";
  r.dst = pfx(dst);
  r.dev = dev;
  return r;
}

}  // namespace

TEST_CASE("kernel: route in a custom table with gateway and onlink") {
  TOPO_REQUIRE_LINK_KIND("veth");
  RouteFixture f;
  Kernel k(f.ns.scopes());
  CHECK(k.table_is_free("host", 1234));

  Route r = route("0.0.0.0/0");
  r.table = 1234;
  r.gateway = addr("169.254.1.1");
  r.onlink = true;
  r.metric = 50;
  r.src = addr("10.0.0.1");
  State interest;
  interest.of<Route>() = {r};
  REQUIRE(k.observe(interest).of<Route>().empty());

  run(k, {create(r)});
  State got = k.observe(interest);
  REQUIRE(got.of<Route>().size() == 1);
  CHECK(got.of<Route>()[0] == r);
  CHECK(got.of<Route>()[0].owned);
  CHECK_FALSE(k.table_is_free("host", 1234));
  std::string shown = f.ns.host_ns.ip("route show table 1234");
  CHECK(shown.find("default via 169.254.1.1 dev va proto 157 src 10.0.0.1 metric 50 onlink") !=
        std::string::npos);

  SUBCASE("replace changes the gateway in place") {
    Route now = r;
    now.gateway = addr("169.254.1.2");
    run(k, {replace(now, r)});
    interest.of<Route>() = {now};
    got = k.observe(interest);
    REQUIRE(got.of<Route>().size() == 1);
    CHECK(got.of<Route>()[0] == now);
    CHECK(lines(f.ns.host_ns.ip("route show table 1234")) == 1);
  }

  SUBCASE("delete empties the table") {
    run(k, {remove(r)});
    CHECK(k.observe(interest).of<Route>().empty());
    CHECK(k.table_is_free("host", 1234));
  }
}

TEST_CASE("kernel: gateway-less route with link scope in main, and IPv6 metric normalisation") {
  TOPO_REQUIRE_LINK_KIND("veth");
  RouteFixture f;
  Kernel k(f.ns.scopes());

  Route v4 = route("10.20.0.5/32");
  v4.route_scope = RouteScope::Link;
  Route v6 = route("fd00:20::/64");  // metric 0: the kernel stores 1024
  Route v6b = route("fd00:21::/64");
  v6b.metric = 1024;  // spelled out: the same key as 0 would be
  State interest;
  interest.of<Route>() = {v4, v6, v6b};
  run(k, {create(v4), create(v6), create(v6b)});

  State got = k.observe(interest);
  REQUIRE(got.of<Route>().size() == 3);
  for (const Route& r : got.of<Route>()) CHECK((r == v4 || r == v6 || r == v6b));
  CHECK(f.ns.host_ns.ip("-6 route show fd00:20::/64").find("metric 1024") != std::string::npos);
  CHECK(f.ns.host_ns.ip("route show 10.20.0.5").find("scope link") != std::string::npos);

  // Asking with 1024 finds the route created with 0, reported in the asker's spelling.
  Route asked = v6;
  asked.metric = 1024;
  interest.of<Route>() = {asked};
  got = k.observe(interest);
  REQUIRE(got.of<Route>().size() == 1);
  CHECK(got.of<Route>()[0] == asked);

  run(k, {remove(v6), remove(v6b), remove(v4)});
  interest.of<Route>() = {v4, v6, v6b};
  CHECK(k.observe(interest).of<Route>().empty());
}

TEST_CASE("kernel: a foreign route with the same key survives our delete") {
  TOPO_REQUIRE_LINK_KIND("veth");
  RouteFixture f;
  Kernel k(f.ns.scopes());
  Route ours = route("10.30.0.0/24");
  ours.metric = 100;
  run(k, {create(ours)});
  // Same dst, tos and metric through another device, added by someone else (NLM_F_APPEND allows it).
  f.ns.host_ns.ip("route append 10.30.0.0/24 dev vb metric 100 proto static");
  REQUIRE(lines(f.ns.host_ns.ip("route show 10.30.0.0/24")) == 2);

  run(k, {remove(ours)});
  std::string left = f.ns.host_ns.ip("route show 10.30.0.0/24");
  CHECK(lines(left) == 1);
  CHECK(left.find("dev vb proto static") != std::string::npos);
  // Creating ours again next to the foreign one is refused: the key is taken.
  Progress done;
  CHECK_THROWS_AS(k.execute({create(ours)}, done), NetlinkError);
  CHECK(done.effected().empty());
}

TEST_CASE("kernel: the extended ACK message reaches NetlinkError") {
  TOPO_REQUIRE_LINK_KIND("veth");
  RouteFixture f;
  Kernel k(f.ns.scopes());
  Route r = route("10.40.0.0/24");
  r.gateway = addr("192.0.2.1");  // not on any connected network, and not onlink
  Progress done;
  try {
    k.execute({create(r)}, done);
    FAIL("expected an error");
  } catch (const NetlinkError& e) {
    CHECK(e.err == ENETUNREACH);
    CHECK(e.operation == "create route");
    CHECK(e.object.find("10.40.0.0/24") != std::string::npos);
    CHECK_FALSE(e.ext_ack.empty());
    CHECK(std::string(e.what()).find("kernel: " + e.ext_ack) != std::string::npos);
    MESSAGE("kernel said: " << std::string(e.what()));
  }
  CHECK(done.effected().empty());
}

TEST_CASE("kernel: the default route's device in a namespace that never had a route is none, not an error") {
  // A fresh namespace has no IPv4 main table until its first route: a filtered dump answers ENOENT.
  TwoScopes ns;
  Kernel k(ns.scopes());
  CHECK(k.default_route_dev("container", Family::V4) == std::nullopt);
  CHECK(k.default_route_dev("container", Family::V6) == std::nullopt);
  ns.container_ns.ip("link add va type veth peer name vb");
  ns.container_ns.ip("link set va up");
  ns.container_ns.ip("addr add 10.0.0.2/24 dev va");
  ns.container_ns.ip("route add default via 10.0.0.1 dev va");
  CHECK(k.default_route_dev("container", Family::V4) == std::optional<std::string>("va"));
}
