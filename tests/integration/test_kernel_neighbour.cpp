// Neighbours: static ARP and NDP entries created permanent with our NDA_PROTOCOL mark, observed through a
// dump filtered to one interface, replaced in place, deleted; re-applying sends nothing; a foreign entry for
// another address is never touched, and one for the same address is a conflict.
#include <doctest/doctest.h>

#include "kernel/netlink/socket.h"
#include "netns_fixture.h"
#include "topo/apply.h"
#include "topo/diff.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

Neighbour neighbour(const char* ip, const char* mac, const char* dev = "va") {
  Neighbour n;
  n.scope = "host";
  n.dev = dev;
  n.address = *IpAddress::parse(ip);
  n.lladdr = *MacAddress::parse(mac);
  return n;
}

}  // namespace

TEST_CASE("kernel: neighbours IPv4 and IPv6") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  ns.host_ns.ip("link add va type veth peer name vb");
  ns.host_ns.ip("link set va up");
  ns.host_ns.ip("link set vb up");
  // Foreign entries: one on another address of the same device, one on the other device.
  ns.host_ns.ip("neigh replace 10.1.2.99 lladdr 02:00:00:00:00:99 dev va nud permanent");
  ns.host_ns.ip("neigh replace 10.1.2.3 lladdr 02:00:00:00:00:98 dev vb nud permanent");
  std::string before = ns.host_ns.ip("neigh show");
  Kernel k(ns.scopes());

  State desired;
  desired.of<Neighbour>() = {neighbour("10.1.2.3", "02:aa:bb:cc:dd:01"), neighbour("fd00:1::5", "02:AA:BB:CC:DD:02")};
  REQUIRE(k.observe(desired).of<Neighbour>().empty());

  Plan plan = diff(desired, k.observe(desired));
  REQUIRE(plan.changes.size() == 2);
  apply(plan, k);

  State got = k.observe(desired);
  REQUIRE(got.of<Neighbour>().size() == 2);
  for (const Neighbour& n : got.of<Neighbour>()) {
    CHECK(n.owned);
    CHECK((n == desired.of<Neighbour>()[0] || n == desired.of<Neighbour>()[1]));
  }
  // What iproute2 sees: permanent, with our protocol.
  CHECK(ns.host_ns.ip("neigh show dev va 10.1.2.3").find("02:aa:bb:cc:dd:01 PERMANENT") != std::string::npos);
  CHECK(ns.host_ns.ip("-6 neigh show dev va fd00:1::5").find("02:aa:bb:cc:dd:02") != std::string::npos);
  CHECK(ns.host_ns.ip("neigh show dev va 10.1.2.3 proto 157").find("10.1.2.3") != std::string::npos);

  // Re-applying plans nothing and sends no mutating message.
  uint64_t sent = netlink::Socket::mutations_sent();
  Plan again = diff(desired, k.observe(desired));
  CHECK(again.empty());
  apply(again, k);
  CHECK(netlink::Socket::mutations_sent() == sent);

  SUBCASE("a changed lladdr is replaced in place") {
    State now = desired;
    now.of<Neighbour>()[0].lladdr = *MacAddress::parse("02:aa:bb:cc:dd:11");
    Plan change = diff(now, k.observe(now));
    REQUIRE(change.changes.size() == 1);
    CHECK(change.changes[0].action == Action::Replace);
    apply(change, k);
    CHECK(ns.host_ns.ip("neigh show dev va 10.1.2.3").find("02:aa:bb:cc:dd:11") != std::string::npos);
  }

  SUBCASE("destroy leaves the namespace as it was; foreign entries stay") {
    apply(diff_destroy(desired, k.observe(desired), State{}), k);
    CHECK(k.observe(desired).of<Neighbour>().empty());
    CHECK(ns.host_ns.ip("neigh show") == before);
  }
}

TEST_CASE("kernel: a foreign neighbour entry with the same key is a conflict") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  ns.host_ns.ip("link add va type veth peer name vb");
  ns.host_ns.ip("neigh replace 10.1.2.3 lladdr 02:00:00:00:00:98 dev va nud permanent");
  Kernel k(ns.scopes());
  State desired;
  desired.of<Neighbour>() = {neighbour("10.1.2.3", "02:aa:bb:cc:dd:01")};
  CHECK_THROWS_AS(diff(desired, k.observe(desired)), ConflictError);
  CHECK(ns.host_ns.ip("neigh show dev va").find("02:00:00:00:00:98") != std::string::npos);
}
