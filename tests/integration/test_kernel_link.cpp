// Veth pairs across two namespaces: create, observe, change in place, delete, and name conflicts.
#include <doctest/doctest.h>

#include "netns_fixture.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

Link veth(uint32_t mtu) {
  Link l;
  l.scope = "host";
  l.name = "vh0";
  l.kind = LinkKind::Veth;
  l.peer_scope = "container";
  l.peer_name = "eth0";
  l.mtu = mtu;
  l.alias = "topocni:att-1";
  return l;
}

}  // namespace

TEST_CASE("kernel: veth pair across two namespaces with mtu and alias") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  Kernel k(ns.scopes());
  Link want = veth(1400);
  State interest;
  interest.of<Link>() = {want};
  REQUIRE(k.observe(interest).of<Link>().empty());

  run(k, {create(want)});

  State got = k.observe(interest);
  REQUIRE(got.of<Link>().size() == 1);
  CHECK(got.of<Link>()[0] == want);
  CHECK(got.of<Link>()[0].owned);
  // Both ends, as the kernel shows them to `ip`.
  CHECK(ns.host_ns.ip("-o link show vh0").find("mtu 1400") != std::string::npos);
  CHECK(ns.host_ns.links("vh0").find("alias topocni:att-1") != std::string::npos);
  CHECK(ns.container_ns.links("eth0").find("alias topocni:att-1") != std::string::npos);
  CHECK(ns.container_ns.ip("-o link show eth0").find("mtu 1400") != std::string::npos);
  CHECK(ns.container_ns.ip("-o link show eth0").find(",UP") != std::string::npos);
  auto info = k.link_info("container", "eth0");
  REQUIRE(info);
  CHECK(info->kind == "veth");
  CHECK(info->mtu == 1400);
  CHECK(info->mac.size() == 17);

  SUBCASE("replace changes mtu and state on both ends in place") {
    int index_before = k.link_info("host", "vh0")->ifindex;
    Link now = veth(9000);
    now.up = false;
    run(k, {replace(now, want)});
    interest.of<Link>() = {now};
    got = k.observe(interest);
    REQUIRE(got.of<Link>().size() == 1);
    CHECK(got.of<Link>()[0] == now);
    CHECK(k.link_info("host", "vh0")->ifindex == index_before);  // not recreated
    CHECK(k.link_info("container", "eth0")->mtu == 9000);
    CHECK(ns.container_ns.ip("-o link show eth0").find(",UP") == std::string::npos);
  }

  SUBCASE("replace with another peer name recreates the pair") {
    Link now = want;
    now.peer_name = "eth1";
    run(k, {replace(now, want)});
    interest.of<Link>() = {now};
    got = k.observe(interest);
    REQUIRE(got.of<Link>().size() == 1);
    CHECK(got.of<Link>()[0] == now);
    CHECK_FALSE(k.link_info("container", "eth0"));
  }

  SUBCASE("delete removes both ends") {
    run(k, {remove(want)});
    CHECK(k.observe(interest).of<Link>().empty());
    CHECK_FALSE(k.link_info("host", "vh0"));
    CHECK_FALSE(k.link_info("container", "eth0"));
  }
}

TEST_CASE("kernel: a veth whose peer name is taken by another link") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  ns.container_ns.ip("link add eth0 type veth peer name other0");
  Kernel k(ns.scopes());
  Link want = veth(1500);
  State interest;
  interest.of<Link>() = {want};

  // Only the foreign link exists: it is reported under its own key so the diff can say "name taken".
  State got = k.observe(interest);
  REQUIRE(got.of<Link>().size() == 1);
  CHECK(got.of<Link>()[0].scope == "container");
  CHECK(got.of<Link>()[0].name == "eth0");
  CHECK_FALSE(got.of<Link>()[0].owned);

  // Creating fails with the kernel's EEXIST and leaves nothing behind in the host scope.
  Progress done;
  try {
    k.execute({create(want)}, done);
    FAIL("expected an error");
  } catch (const NetlinkError& e) {
    CHECK(e.err == EEXIST);
    CHECK(e.operation == "create link");
  }
  CHECK(done.effected().empty());
  CHECK_FALSE(k.link_info("host", "vh0"));

  // The primary end exists but pairs with something else: both are reported, and the peer is not claimed.
  ns.host_ns.ip("link add vh0 type veth peer name x0");
  got = k.observe(interest);
  REQUIRE(got.of<Link>().size() == 2);
  for (const Link& l : got.of<Link>()) {
    CHECK(l.peer_name.empty());
    if (l.scope == "host") CHECK(l.name == "vh0");
    if (l.scope == "container") CHECK(l.name == "eth0");
  }
}

TEST_CASE("kernel: existing links are never created or deleted") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  ns.host_ns.ip("link add eth9 type veth peer name eth9p");
  Kernel k(ns.scopes());
  Link l;
  l.scope = "host";
  l.name = "eth9";
  l.kind = LinkKind::Existing;
  Progress done;
  CHECK_THROWS_AS(k.execute({remove(l)}, done), ConflictError);
  CHECK(done.effected().empty());
  CHECK(k.link_info("host", "eth9"));
}

TEST_CASE("kernel: unavailable scopes are skipped") {
  TwoScopes ns;
  ScopeMap scopes = ns.scopes();
  scopes["gone"] = "/run/netns/topo-test-does-not-exist";
  Kernel k(scopes);
  CHECK(k.has_scope("host"));
  CHECK_FALSE(k.has_scope("gone"));
  CHECK_FALSE(k.has_scope("unmapped"));
  Link l = veth(1500);
  l.scope = "gone";
  Route r;
  r.scope = "unmapped";
  r.dst = pfx("10.0.0.0/8");
  r.dev = "x";
  State interest;
  interest.of<Link>() = {l};
  interest.of<Route>() = {r};
  CHECK(k.observe(interest).empty());
}
