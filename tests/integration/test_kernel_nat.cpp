// NAT through Kernel: consecutive NatEntry changes of one scope go to nftables inside that scope's namespace.
#include <doctest/doctest.h>

#include "netns_fixture.h"

using namespace topo;
using namespace topo::test;

TEST_CASE("kernel: NAT entries are applied and observed inside the scope's namespace") {
  TwoScopes ns;
  Kernel k(ns.scopes());
  NatEntry masq;
  masq.scope = "host";
  masq.action = NatAction::Masquerade;
  masq.saddr = pfx("10.60.0.0/24");
  masq.oif = "eth0";
  masq.owner = "att-9";
  NatEntry dnat = masq;
  dnat.action = NatAction::Dnat;
  dnat.saddr.reset();
  dnat.oif.clear();
  dnat.iif = "eth0";
  dnat.to = addr("10.60.0.2");
  State interest;
  interest.of<NatEntry>() = {masq, dnat};
  REQUIRE(k.observe(interest).of<NatEntry>().empty());

  run(k, {create(masq), create(dnat)});
  State got = k.observe(interest);
  REQUIRE(got.of<NatEntry>().size() == 2);
  for (const NatEntry& n : got.of<NatEntry>()) CHECK((n == masq || n == dnat));
  CHECK(ns.host_ns.exec("nft list table inet topocni").find("masquerade") != std::string::npos);
  // Only in that namespace.
  int status = 0;
  sh("ip netns exec " + ns.container_ns.name() + " nft list table inet topocni 2>&1", &status);
  CHECK(status != 0);

  run(k, {remove(masq), remove(dnat)});
  CHECK(k.observe(interest).of<NatEntry>().empty());
}
