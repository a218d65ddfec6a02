// decode_rule(): nft's JSON listing (as nft 1.0.6 prints it) back into NatEntry, and rejection of anything
// rule_text() does not write.
#include <doctest/doctest.h>

#include "nft/rule_decode.h"

namespace {

using nlohmann::json;
using topo::Family;
using topo::NatAction;
using topo::NatEntry;
using topo::nft::decode_rule;

NatEntry decode(const char* expr) { return decode_rule(json::parse(expr), "host", "c1"); }

bool undecodable(const NatEntry& e) { return e.iif.starts_with("?"); }

}  // namespace

TEST_CASE("masquerade with nfproto and interface matches") {
  NatEntry e = decode(R"([
    {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv6"}},
    {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "veth0"}},
    {"match": {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}},
    {"masquerade": null}])");
  REQUIRE_FALSE(undecodable(e));
  CHECK(e.family == Family::V6);
  CHECK(e.action == NatAction::Masquerade);
  CHECK(e.iif == "veth0");
  CHECK_FALSE(e.iif_not);
  CHECK(e.oif == "eth0");
  CHECK(e.oif_not);
  CHECK(e.scope == "host");
  CHECK(e.owner == "c1");
}

TEST_CASE("prefix, bare address and snat target") {
  NatEntry e = decode(R"([
    {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
               "right": {"prefix": {"addr": "10.0.0.0", "len": 24}}}},
    {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "10.0.0.1"}},
    {"snat": {"family": "ip", "addr": "1.2.3.4"}}])");
  REQUIRE_FALSE(undecodable(e));
  CHECK(e.family == Family::V4);
  CHECK(e.action == NatAction::Snat);
  CHECK(e.saddr == topo::IpPrefix::parse("10.0.0.0/24"));
  CHECK_FALSE(e.saddr_not);
  CHECK(e.daddr == topo::IpPrefix::parse("10.0.0.1/32"));
  CHECK(e.daddr_not);
  CHECK(e.to == topo::IpAddress::parse("1.2.3.4"));
}

TEST_CASE("dnat ip6") {
  NatEntry e = decode(R"([
    {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}},
               "right": {"prefix": {"addr": "::", "len": 0}}}},
    {"dnat": {"family": "ip6", "addr": "fd00::5"}}])");
  REQUIRE_FALSE(undecodable(e));
  CHECK(e.family == Family::V6);
  CHECK(e.action == NatAction::Dnat);
  CHECK(e.daddr == topo::IpPrefix::parse("::/0"));
  CHECK(e.to == topo::IpAddress::parse("fd00::5"));
}

TEST_CASE("shapes rule_text() never writes are not decoded") {
  const char* cases[] = {
      // family-less masquerade (would hit both families)
      R"([{"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}}, {"masquerade": null}])",
      // nfproto next to an address match
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "10.0.0.1"}},
          {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}}, {"masquerade": null}])",
      // mixed families
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "fd00::1"}},
          {"snat": {"family": "ip", "addr": "1.2.3.4"}}])",
      // masquerade with ports
      R"([{"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}},
          {"masquerade": {"port": 1024}}])",
      // dnat with a port
      R"([{"dnat": {"family": "ip", "addr": "1.2.3.4", "port": 80}}])",
      // a range instead of a prefix
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                     "right": {"range": ["10.0.0.1", "10.0.0.9"]}}}, {"masquerade": null}])",
      // an unknown match
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}},
          {"snat": {"family": "ip", "addr": "1.2.3.4"}}])",
      // two actions, no action, the same match twice
      R"([{"snat": {"family": "ip", "addr": "1.2.3.4"}}, {"snat": {"family": "ip", "addr": "1.2.3.5"}}])",
      R"([{"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}}])",
      R"([{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "a"}},
          {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "b"}},
          {"snat": {"family": "ip", "addr": "1.2.3.4"}}])",
      R"([])",
  };
  for (const char* expr : cases) {
    CAPTURE(expr);
    NatEntry e = decode(expr);
    CHECK(undecodable(e));
    CHECK(e.owner == "c1");
    CHECK(e.scope == "host");
  }
}
