// Addresses: create with our IFA_PROTO mark, observe through a filtered dump, replace, delete.
#include <doctest/doctest.h>

#include "netns_fixture.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

Address address(const char* prefix, const char* dev = "va") {
  Address a;
  a.scope = "host";
  a.dev = dev;
  a.local = pfx(prefix);
  return a;
}

}  // namespace

TEST_CASE("kernel: addresses IPv4 and IPv6") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  ns.host_ns.ip("link add va type veth peer name vb");
  ns.host_ns.ip("link set va up");
  ns.host_ns.ip("link set vb up");
  ns.host_ns.ip("addr add 192.0.2.99/24 dev vb");  // on another interface: must not show up
  Kernel k(ns.scopes());

  Address v4 = address("10.1.2.3/24");
  Address v6 = address("fd00:1::5/64");
  v6.nodad = true;
  State interest;
  interest.of<Address>() = {v4, v6, address("192.0.2.99/24")};
  REQUIRE(k.observe(interest).of<Address>().empty());

  run(k, {create(v4), create(v6)});

  State got = k.observe(interest);
  REQUIRE(got.of<Address>().size() == 2);
  for (const Address& a : got.of<Address>()) {
    CHECK(a.owned);
    CHECK((a == v4 || a == v6));
  }
  // The mark is visible to iproute2 too (it prints unknown protocols by number).
  CHECK(ns.host_ns.ip("-4 addr show dev va").find("10.1.2.3/24") != std::string::npos);
  CHECK(ns.host_ns.ip("-6 addr show dev va").find("fd00:1::5/64") != std::string::npos);
  CHECK(ns.host_ns.ip("-6 addr show dev va").find("nodad") != std::string::npos);

  auto global = k.addresses_of("host", "va");
  // Global addresses only: the fe80:: address the kernel adds to an up veth is left out.
  CHECK(global.size() == 2);
  for (const IpPrefix& p : global) CHECK((p == v4.local || p == v6.local));

  SUBCASE("replace changes nodad in place") {
    Address now = v6;
    now.nodad = false;
    run(k, {replace(now, v6)});
    interest.of<Address>() = {now};
    got = k.observe(interest);
    REQUIRE(got.of<Address>().size() == 1);
    CHECK(got.of<Address>()[0] == now);
    CHECK_FALSE(got.of<Address>()[0].nodad);
  }

  SUBCASE("delete removes them") {
    run(k, {remove(v4), remove(v6)});
    CHECK(k.observe(interest).of<Address>().empty());
    CHECK(ns.host_ns.ip("addr show dev va").find("10.1.2.3") == std::string::npos);
    CHECK(ns.host_ns.ip("addr show dev vb").find("192.0.2.99") != std::string::npos);
  }

  SUBCASE("an address on a missing device fails before anything is sent") {
    Progress done;
    Address missing = address("10.9.9.9/32", "nosuch0");
    try {
      k.execute({create(missing)}, done);
      FAIL("expected an error");
    } catch (const NetlinkError& e) {
      CHECK(e.err == ENODEV);
    }
    CHECK(done.effected().empty());
  }
}
