// Batched address/route changes: 10,000 routes, an exact `done` when a batch fails in the middle, and the
// TOPOCNI_TEST_FAIL_AT failure injection.
#include <doctest/doctest.h>

#include <cstdlib>

#include "netns_fixture.h"
#include "topo/apply.h"
#include "topo/error.h"
#include "topo/fault_injection.h"

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
  Progress created;
  k.execute(changes, created);
  CHECK(created.effected().size() == kCount);
  CHECK(f.routes_on_va() == kCount);

  State interest;
  for (const Change& c : changes) interest.of<Route>().push_back(std::get<Route>(c.object));
  State got = k.observe(interest);
  CHECK(got.of<Route>().size() == kCount);
  for (const Route& r : got.of<Route>()) CHECK(r.owned);

  std::vector<Change> deletes;
  for (const Change& c : changes) deletes.push_back(remove(c.object));
  Progress deleted;
  k.execute(deletes, deleted);
  CHECK(deleted.effected().size() == kCount);
  CHECK(f.routes_on_va() == 0);
  CHECK(k.observe(interest).of<Route>().empty());
}

namespace {

// Changes #4 collides with a route someone else holds; #5.. succeed in the same batch (rtnetlink goes on past
// a failed request). Change #0 is an address: addresses and routes both go in batches.
std::vector<Change> colliding_batch(Fixture& f) {
  auto changes = creates(8);
  f.ns.host_ns.ip("route add " + std::get<Route>(changes[3].object).dst.addr.str() + " dev vb proto static");
  Address a;
  a.scope = "host";
  a.dev = "va";
  a.local = pfx("10.99.0.1/24");
  changes.insert(changes.begin(), create(a));
  return changes;
}

}  // namespace

TEST_CASE("kernel: a failure in the middle of a batch reports exactly what took effect") {
  TOPO_REQUIRE_LINK_KIND("veth");
  Fixture f;
  Kernel k(f.ns.scopes());
  auto changes = colliding_batch(f);
  Progress p;
  try {
    k.execute(changes, p);
    FAIL("expected an error");
  } catch (const NetlinkError& e) {
    CHECK(e.err == EEXIST);
    CHECK(e.object.find(std::get<Route>(changes[4].object).dst.addr.str()) != std::string::npos);
  }
  CHECK(p.current() == 4);
  // The address, three routes before the failure and four after it; the kernel holds exactly those.
  CHECK(p.effected() == std::vector<size_t>{0, 1, 2, 3, 5, 6, 7, 8});
  CHECK(lines(f.ns.host_ns.ip("route show dev va proto 157")) == 7);
}

TEST_CASE("kernel: apply undoes a failed batch completely, also the successes after the failure") {
  TOPO_REQUIRE_LINK_KIND("veth");
  Fixture f;
  Kernel k(f.ns.scopes());
  Plan plan{colliding_batch(f)};
  CHECK_THROWS_AS(apply(plan, k), NetlinkError);
  CHECK(lines(f.ns.host_ns.ip("route show dev va proto 157")) == 0);
  CHECK(f.ns.host_ns.ip("addr show dev va").find("10.99.0.1/24") == std::string::npos);
  // The foreign route that caused the failure is untouched.
  CHECK(!f.ns.host_ns.ip("route show " + host_route(3).dst.addr.str() + " proto static").empty());
}

TEST_CASE("kernel: apply_keep_going goes on past a failure and reports it") {
  TOPO_REQUIRE_LINK_KIND("veth");
  Fixture f;
  Kernel k(f.ns.scopes());
  auto failures = apply_keep_going(colliding_batch(f), k);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find(host_route(3).dst.addr.str()) != std::string::npos);
  CHECK(lines(f.ns.host_ns.ip("route show dev va proto 157")) == 7);
  // Deleting what is not there (ESRCH) counts as done.
  std::vector<Change> deletes;
  for (size_t i = 0; i < 8; ++i) deletes.push_back(remove(Object(host_route(i))));
  CHECK(apply_keep_going(deletes, k).empty());
  CHECK(lines(f.ns.host_ns.ip("route show dev va proto 157")) == 0);
}

// The injected failure counts changes across the whole process, so it is checked in a fresh process: this
// binary re-runs itself for the "child" case below with TOPOCNI_TEST_FAIL_AT set.
TEST_CASE("kernel: failure injection (child)") {
  const char* ns_name = std::getenv("TOPO_TEST_INJECTION_NETNS");
  if (!ns_name) return;  // only runs when started by the parent case
  Kernel k({{"host", std::string("/run/netns/") + ns_name}});
  k.set_change_hook(fault_injection_from_environment());
  Sysctl s{"host", "net.ipv4.conf.va.forwarding", "1", std::nullopt};
  std::vector<Change> first = {create(s)};
  Progress one;
  k.execute(first, one);  // change #1
  REQUIRE(one.effected().size() == 1);
  auto changes = creates(6);  // changes #2..#7; #5 is the injected failure
  Progress p;
  try {
    k.execute(changes, p);
    FAIL("expected the injected failure");
  } catch (const NetlinkError& e) {
    CHECK(e.err == EIO);
    CHECK(e.operation == "injected failure");
  }
  CHECK(p.effected().size() == 3);
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
