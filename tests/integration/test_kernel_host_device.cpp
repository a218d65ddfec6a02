// host-device against the real kernel: a node device (a veth end here; this machine has no spare NIC) is moved
// into the pod under its pod name, read back equal, re-applied with no mutating message, and moved back with
// its name, alias, MTU and up state, leaving both namespaces' links as they were (`ip -d link show`). Also:
// what is refused before anything moves, a failed configuration after the move, and a device the kernel
// returned to the node when the pod's namespace went away.
#include <doctest/doctest.h>

#include "kernel/netlink/socket.h"
#include "kinds/link/host_device.h"
#include "netns_fixture.h"
#include "topo/apply.h"
#include "topo/diff.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

constexpr const char* kOwner = "topocni:att-hostdev";

Link host_device(const char* name, const char* device) {
  Link l;
  l.scope = "container";
  l.name = name;
  l.kind = LinkKind::HostDevice;
  l.device = device;
  l.alias = kOwner;
  return l;
}

// A node with a spare device hd0 (mtu 1400, an alias of its own, up), an uplink carrying the default route,
// and a foreign link in each namespace. hd0's ifindex is taken in the pod unless `hd0_index` is given: the
// move in changes it, and the move back must ask for it again.
struct Node {
  TwoScopes ns;
  std::string host_before, container_before;
  explicit Node(const std::string& hd0_index = "") {
    ns.host_ns.ip("link add hd0 " + (hd0_index.empty() ? "" : "index " + hd0_index + " ") + "type veth peer name hd0-peer");
    ns.host_ns.ip("link set hd0 mtu 1400 alias lab-spare up");
    ns.host_ns.ip("link add uplink type veth peer name uplink-peer");
    ns.host_ns.ip("link set uplink up");
    ns.host_ns.ip("addr add 10.99.0.1/24 dev uplink");
    ns.host_ns.ip("route add default via 10.99.0.2");
    ns.container_ns.ip("link add foreign1 type veth peer name foreign2");
    host_before = ns.host_ns.links();
    container_before = ns.container_ns.links();
  }
  void unchanged() const {
    CHECK(ns.host_ns.links() == host_before);
    CHECK(ns.container_ns.links() == container_before);
  }
};

State planned(Kernel& k, Link l) {
  State desired;
  desired.of<Link>() = {std::move(l)};
  take_host_device_origins(k, desired.of<Link>(), {});
  return desired;
}

}  // namespace

TEST_CASE("kernel: host-device moves a node device into the pod and back as it was") {
  Node node;
  Kernel k(node.ns.scopes());
  Link want = host_device("net1", "hd0");
  want.mtu = 1300;
  State desired = planned(k, want);
  const Link& d = desired.of<Link>()[0];
  REQUIRE(d.origin);
  CHECK(d.origin->alias == "lab-spare");
  CHECK(d.origin->mtu == 1400);
  CHECK(d.origin->up);

  Plan add = diff(desired, k.observe(desired));
  REQUIRE(add.changes.size() == 1);
  apply(add, k);
  CHECK(node.ns.host_ns.ip("-o link show").find("hd0:") == std::string::npos);
  std::string in_pod = node.ns.container_ns.links("net1");
  CHECK(in_pod.find("mtu 1300") != std::string::npos);
  CHECK(in_pod.find("alias topocni:att-hostdev") != std::string::npos);
  CHECK(in_pod.find(",UP") != std::string::npos);

  State got = k.observe(desired);
  REQUIRE(got.of<Link>().size() == 1);
  CHECK_MESSAGE(got.of<Link>()[0] == d, describe(got.of<Link>()[0]) << " != " << describe(d));
  CHECK(got.of<Link>()[0].owned);
  CHECK_FALSE(got.of<Link>()[0].stranded);

  uint64_t sent = netlink::Socket::mutations_sent();
  CHECK(diff(desired, k.observe(desired)).empty());
  CHECK(netlink::Socket::mutations_sent() == sent);

  SUBCASE("an MTU change is made in place, in the pod") {
    State now = desired;
    now.of<Link>()[0].mtu = 1280;
    Plan change = diff(now, k.observe(now));
    CHECK(change.count(Action::Replace) == 1);
    apply(change, k);
    CHECK(node.ns.container_ns.ip("link show net1").find("mtu 1280") != std::string::npos);
    desired = now;
  }
  CHECK(node.ns.container_ns.ip("-o link show net1").find("3: net1") == std::string::npos);  // index 3 was taken
  apply(diff_destroy(desired, k.observe(desired), State{}), k);
  CHECK(k.observe(desired).of<Link>().empty());
  node.unchanged();  // its ifindex included
}

// The kernel moves a physical device back to the initial namespace when a pod's namespace goes away (a virtual
// one dies with it); emulated with `ip link set netns`, which moves it the same way, index and all.
TEST_CASE("kernel: host-device DEL renames back in place a device the kernel returned to the node") {
  Node node("40");
  Kernel k(node.ns.scopes());
  Link want = host_device("net1", "hd0");
  want.mtu = 1300;
  State desired = planned(k, want);
  apply(diff(desired, k.observe(desired)), k);
  node.ns.container_ns.ip("link set net1 netns " + node.ns.host_ns.name());
  State seen = k.observe(desired);
  REQUIRE(seen.of<Link>().size() == 1);
  CHECK(seen.of<Link>()[0].stranded);
  apply(diff_destroy(desired, seen, State{}), k);
  CHECK(k.observe(desired).of<Link>().empty());
  node.unchanged();
}

TEST_CASE("kernel: host-device refusals change nothing") {
  Node node;
  Kernel k(node.ns.scopes());
  SUBCASE("a device the node does not have") {
    CHECK_THROWS_WITH_AS(planned(k, host_device("net1", "nope0")), doctest::Contains("the node has no interface 'nope0'"),
                         ConflictError);
  }
  SUBCASE("the device of the node's default route") {
    CHECK_THROWS_WITH_AS(planned(k, host_device("net1", "uplink")), doctest::Contains("default IPv4 route"),
                         ConflictError);
  }
  SUBCASE("a device topocni created") {
    node.ns.host_ns.ip("link add tv0 type veth peer name tv1");
    node.ns.host_ns.ip("link set tv0 alias topocni:someone-else");
    node.host_before = node.ns.host_ns.links();
    CHECK_THROWS_WITH_AS(planned(k, host_device("net1", "tv0")), doctest::Contains("topocni's own"), ConflictError);
  }
  SUBCASE("a foreign link holds the pod name") {
    State desired = planned(k, host_device("foreign1", "hd0"));
    CHECK_THROWS_AS(diff(desired, k.observe(desired)), ConflictError);
  }
  SUBCASE("a failure after the move (a master the pod lacks) moves the device back") {
    Link l = host_device("net1", "hd0");
    l.master = "nobr0";
    l.mtu = 1300;
    State desired = planned(k, l);
    CHECK_THROWS_WITH_AS(apply(diff(desired, k.observe(desired)), k), doctest::Contains("master 'nobr0' does not exist"),
                         ConflictError);
  }
  node.unchanged();
}
