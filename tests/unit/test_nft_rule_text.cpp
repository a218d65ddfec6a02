// rule_text(): the nft syntax written for every form of NatEntry (pure, no kernel).
#include <doctest/doctest.h>

#include "kernel/nft/nat_table.h"
#include "topo/error.h"

namespace {

using topo::Family;
using topo::IpAddress;
using topo::IpPrefix;
using topo::NatAction;
using topo::NatEntry;

IpPrefix pfx(const char* s) { return *IpPrefix::parse(s); }
IpAddress addr(const char* s) { return *IpAddress::parse(s); }

NatEntry entry(Family f, NatAction a) {
  NatEntry e;
  e.family = f;
  e.action = a;
  e.owner = "c1:eth0";
  return e;
}

}  // namespace

TEST_CASE("masquerade without address matches is pinned to its family with meta nfproto") {
  NatEntry e = entry(Family::V4, NatAction::Masquerade);
  CHECK(topo::nft::rule_text(e) == R"(meta nfproto ipv4 masquerade comment "topocni:c1:eth0")");
  e.family = Family::V6;
  e.oif = "eth0";
  CHECK(topo::nft::rule_text(e) ==
        R"(meta nfproto ipv6 oifname "eth0" masquerade comment "topocni:c1:eth0")");
}

TEST_CASE("an address match makes nfproto unnecessary") {
  NatEntry e = entry(Family::V4, NatAction::Masquerade);
  e.saddr = pfx("10.1.0.0/16");
  e.daddr = pfx("10.1.0.0/16");
  e.daddr_not = true;
  CHECK(topo::nft::rule_text(e) ==
        R"(ip saddr 10.1.0.0/16 ip daddr != 10.1.0.0/16 masquerade comment "topocni:c1:eth0")");

  NatEntry v6 = entry(Family::V6, NatAction::Masquerade);
  v6.daddr = pfx("fd00::/64");
  CHECK(topo::nft::rule_text(v6) == R"(ip6 daddr fd00::/64 masquerade comment "topocni:c1:eth0")");
}

TEST_CASE("host prefixes print as bare addresses, others with host bits cleared") {
  NatEntry e = entry(Family::V4, NatAction::Masquerade);
  e.saddr = pfx("10.0.0.7/32");
  CHECK(topo::nft::rule_text(e) == R"(ip saddr 10.0.0.7 masquerade comment "topocni:c1:eth0")");
  e.saddr = pfx("10.0.0.7");
  CHECK(topo::nft::rule_text(e) == R"(ip saddr 10.0.0.7 masquerade comment "topocni:c1:eth0")");
  // The kernel keeps mask + compare, so nft lists 10.0.0.0/24 back; write what will be read.
  e.saddr = pfx("10.0.0.7/24");
  CHECK(topo::nft::rule_text(e) == R"(ip saddr 10.0.0.0/24 masquerade comment "topocni:c1:eth0")");
  e.saddr = pfx("0.0.0.0/0");
  e.saddr_not = true;
  CHECK(topo::nft::rule_text(e) == R"(ip saddr != 0.0.0.0/0 masquerade comment "topocni:c1:eth0")");

  NatEntry v6 = entry(Family::V6, NatAction::Masquerade);
  v6.saddr = pfx("fd00::1/128");
  CHECK(topo::nft::rule_text(v6) == R"(ip6 saddr fd00::1 masquerade comment "topocni:c1:eth0")");
}

TEST_CASE("interface matches and their negations") {
  NatEntry e = entry(Family::V4, NatAction::Masquerade);
  e.saddr = pfx("10.0.0.0/24");
  e.iif = "veth1";
  e.oif = "eth0";
  CHECK(topo::nft::rule_text(e) ==
        R"(ip saddr 10.0.0.0/24 iifname "veth1" oifname "eth0" masquerade comment "topocni:c1:eth0")");
  e.iif_not = true;
  e.oif_not = true;
  CHECK(topo::nft::rule_text(e) ==
        R"(ip saddr 10.0.0.0/24 iifname != "veth1" oifname != "eth0" masquerade comment "topocni:c1:eth0")");
}

TEST_CASE("snat and dnat name their family and target") {
  NatEntry s = entry(Family::V4, NatAction::Snat);
  s.saddr = pfx("10.0.0.0/24");
  s.oif = "eth0";
  s.to = addr("192.0.2.1");
  CHECK(topo::nft::rule_text(s) ==
        R"(ip saddr 10.0.0.0/24 oifname "eth0" snat ip to 192.0.2.1 comment "topocni:c1:eth0")");

  NatEntry s6 = entry(Family::V6, NatAction::Snat);
  s6.to = addr("2001:db8::1");
  CHECK(topo::nft::rule_text(s6) == R"(snat ip6 to 2001:db8::1 comment "topocni:c1:eth0")");

  NatEntry d = entry(Family::V4, NatAction::Dnat);
  d.daddr = pfx("192.0.2.1/32");
  d.iif = "eth0";
  d.to = addr("10.0.0.5");
  CHECK(topo::nft::rule_text(d) ==
        R"(ip daddr 192.0.2.1 iifname "eth0" dnat ip to 10.0.0.5 comment "topocni:c1:eth0")");

  NatEntry d6 = entry(Family::V6, NatAction::Dnat);
  d6.daddr = pfx("2001:db8::1");
  d6.daddr_not = true;
  d6.to = addr("fd00::5");
  CHECK(topo::nft::rule_text(d6) ==
        R"(ip6 daddr != 2001:db8::1 dnat ip6 to fd00::5 comment "topocni:c1:eth0")");
}

TEST_CASE("entries nft syntax cannot carry are refused") {
  NatEntry snat = entry(Family::V4, NatAction::Snat);
  CHECK_THROWS_AS(topo::nft::rule_text(snat), topo::Error);  // no target

  NatEntry masq = entry(Family::V4, NatAction::Masquerade);
  masq.to = addr("192.0.2.1");
  CHECK_THROWS_AS(topo::nft::rule_text(masq), topo::Error);  // masquerade has no target

  NatEntry quote = entry(Family::V4, NatAction::Masquerade);
  quote.owner = "a\"; flush ruleset; \"";
  CHECK_THROWS_AS(topo::nft::rule_text(quote), topo::Error);  // would end the comment string
}
