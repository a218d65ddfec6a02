// Batched address/route changes: 10,000 routes, an exact `done` when a batch fails in the middle, and the
// TOPOCNI_TEST_FAIL_AT failure injection.
#include <doctest/doctest.h>

#include <cstdlib>

#include "netns_fixture.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

struct Fixture {
  TwoScopes ns;
  Fixture() {
    ns.host_ns.ip("link add va type veth peer name vb");
    ns.host_ns.ip("link set va up");
    ns.host_ns.ip("link set vb up");
  }
  size_t routes_on_va() const { return lines(ns.host_ns.ip("route show dev va")); }
};

Route host_route(size_t i) {
  Route r;
  r.scope = "host";
  r.dst = pfx(("10." + std::to_string(100 + i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
               std::to_string(i % 256) + "/32")
                  .c_str());
  r.dev = "va";
  r.route_scope = RouteScope::Link;
  return r;
}

std::vector<Change> creates(size_t n) {
  std::vector<Change> out;
  for (size_t i = 0; i < n; ++i) out.push_back(create(host_route(i)));
  return out;
}

}  // namespace

TEST_CASE("kernel: a batch of 10,000 routes is created, observed and deleted") {
  TOPO_REQUIRE_LINK_KIND("veth");
  Fixture f;
  Kernel k(f.ns.scopes());
  constexpr size_t kCount = 10000;
  auto changes = creates(kCount);
  size_t done = 0;
  k.execute(changes, done);
  CHECK(done == kCount);
  CHECK(f.routes_on_va() == kCount);

  State interest;
  for (const Change& c : changes) interest.routes.push_back(std::get<Route>(c.object));
  State got = k.observe(interest);
  CHECK(got.routes.size() == kCount);
  for (const Route& r : got.routes) CHECK(r.owned);

  std::vector<Change> deletes;
  for (const Change& c : changes) deletes.push_back(remove(c.object));
  k.execute(deletes, done);
  CHECK(done == kCount);
  CHECK(f.routes_on_va() == 0);
  CHECK(k.observe(interest).routes.empty());
}

TEST_CASE("kernel: a failure in the middle of a batch gives an exact done") {
  TOPO_REQUIRE_LINK_KIND("veth");
  Fixture f;
  Kernel k(f.ns.scopes());
  // Change #4 collides with a route someone else holds; #5.. would succeed in the same batch.
  auto changes = creates(8);
  f.ns.host_ns.ip("route add " + std::get<Route>(changes[3].object).dst.addr.str() + " dev vb proto static");
  Address a;
  a.scope = "host";
  a.dev = "va";
  a.local = pfx("10.99.0.1/24");
  changes.insert(changes.begin(), create(a));  // addresses and routes share the batch

  size_t done = 0;
  try {
    k.execute(changes, done);
    FAIL("expected an error");
  } catch (const NetlinkError& e) {
    CHECK(e.err == EEXIST);
    CHECK(e.object.find(std::get<Route>(changes[4].object).dst.addr.str()) != std::string::npos);
  }
  CHECK(done == 4);  // the address and three routes
  // Exactly those took effect: the later successes of the batch were undone. The prefix route of the
  // address is the kernel's (proto kernel), the rest are ours.
  CHECK(lines(f.ns.host_ns.ip("route show dev va proto 157")) == 3);
  CHECK(f.ns.host_ns.ip("addr show dev va").find("10.99.0.1/24") != std::string::npos);
  for (size_t i = 4; i < 8; ++i)
    CHECK(f.ns.host_ns.ip("route show " + host_route(i).dst.addr.str() + " dev va").empty());
}

// The injected failure counts changes across the whole process, so it is checked in a fresh process: this
// binary re-runs itself for the "child" case below with TOPOCNI_TEST_FAIL_AT set.
TEST_CASE("kernel: failure injection (child)") {
  const char* ns_name = std::getenv("TOPO_TEST_INJECTION_NETNS");
  if (!ns_name) return;  // only runs when started by the parent case
  Kernel k({{"host", std::string("/run/netns/") + ns_name}});
  Sysctl s{"host", "net.ipv4.conf.va.forwarding", "1", std::nullopt};
  std::vector<Change> first = {create(s)};
  size_t done = 0;
  k.execute(first, done);  // change #1
  REQUIRE(done == 1);
  auto changes = creates(6);  // changes #2..#7; #5 is the injected failure
  try {
    k.execute(changes, done);
    FAIL("expected the injected failure");
  } catch (const NetlinkError& e) {
    CHECK(e.err == EIO);
    CHECK(e.operation == "injected failure");
  }
  CHECK(done == 3);
}

TEST_CASE("kernel: failure injection gives an exact done") {
  TOPO_REQUIRE_LINK_KIND("veth");
  if (std::getenv("TOPO_TEST_INJECTION_NETNS")) return;  // we are the child
  Fixture f;
  std::string self = must("readlink /proc/" + std::to_string(::getpid()) + "/exe");
  self.pop_back();  // newline
  int status = 0;
  std::string out = sh("TOPOCNI_TEST_FAIL_AT=5 TOPO_TEST_INJECTION_NETNS=" + f.ns.host_ns.name() + " '" +
                           self + "' --test-case='kernel: failure injection (child)' 2>&1",
                       &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(f.ns.host_ns.exec("cat /proc/sys/net/ipv4/conf/va/forwarding") == "1\n");
  CHECK(f.routes_on_va() == 3);
  CHECK(f.ns.host_ns.ip("route show " + host_route(2).dst.addr.str()).find("dev va") != std::string::npos);
  CHECK(f.ns.host_ns.ip("route show " + host_route(3).dst.addr.str()).empty());
}
