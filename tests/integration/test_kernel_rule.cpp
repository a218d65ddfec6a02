// Policy rules with iif/from/fwmark selectors, our FRA_PROTOCOL mark, replace, and foreign rules.
#include <doctest/doctest.h>

#include "netns_fixture.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

Rule rule(uint32_t priority, uint32_t table) {
  Rule r;
  r.scope = "host";
  r.priority = priority;
  r.table = table;
  return r;
}

}  // namespace

TEST_CASE("kernel: rules with iif, from and fwmark") {
  TwoScopes ns;
  Kernel k(ns.scopes());
  Rule by_iif = rule(100, 100);
  by_iif.iif = "veth.x1";  // need not exist; interface names may contain dots
  Rule by_from = rule(101, 100);
  by_from.from = pfx("10.1.0.0/16");
  Rule by_mark = rule(102, 2000);  // fwmark without mask: the kernel reports mask 0xffffffff
  by_mark.fwmark = 0x10;
  Rule masked = rule(103, 2000);
  masked.fwmark = 0x100;
  masked.fwmask = 0xff00;
  Rule v6 = rule(104, 100);
  v6.family = Family::V6;
  v6.to = pfx("fd00:5::/48");
  State interest;
  interest.of<Rule>() = {by_iif, by_from, by_mark, masked, v6};
  REQUIRE(k.observe(interest).of<Rule>().empty());
  CHECK(k.table_is_free("host", 2000));

  run(k, {create(by_iif), create(by_from), create(by_mark), create(masked), create(v6)});
  State got = k.observe(interest);
  REQUIRE(got.of<Rule>().size() == 5);
  for (const Rule& r : got.of<Rule>()) {
    CHECK(r.owned);
    bool matches = r == by_iif || r == by_from || r == by_mark || r == masked || r == v6;
    CHECK(matches);
  }
  CHECK_FALSE(k.table_is_free("host", 2000));
  std::string shown = ns.host_ns.ip("rule show");
  CHECK(shown.find("102:\tfrom all fwmark 0x10 lookup 2000 proto 157") != std::string::npos);
  CHECK(shown.find("100:\tfrom all iif veth.x1 [detached] lookup 100 proto 157") != std::string::npos);

  SUBCASE("replace changes the table") {
    Rule now = by_from;
    now.table = 200;
    run(k, {replace(now, by_from)});
    interest.of<Rule>() = {now};
    got = k.observe(interest);
    REQUIRE(got.of<Rule>().size() == 1);
    CHECK(got.of<Rule>()[0] == now);
    CHECK(ns.host_ns.ip("rule show pref 101").find("lookup 200") != std::string::npos);
  }

  SUBCASE("delete removes them") {
    run(k, {remove(by_iif), remove(by_from), remove(by_mark), remove(masked), remove(v6)});
    CHECK(k.observe(interest).of<Rule>().empty());
    CHECK(k.table_is_free("host", 2000));
  }
}

TEST_CASE("kernel: a foreign rule with the same priority survives our delete") {
  TwoScopes ns;
  Kernel k(ns.scopes());
  Rule ours = rule(500, 300);
  ours.from = pfx("10.50.0.0/16");
  run(k, {create(ours)});
  // Same priority, same selectors and table, another protocol.
  int status = 0;
  sh("ip -n " + ns.host_ns.name() + " rule add pref 500 from 10.50.0.0/16 lookup 300 proto static 2>&1",
     &status);
  if (status != 0) {
    // Kernels that treat it as a duplicate: use a different selector with the same priority instead.
    ns.host_ns.ip("rule add pref 500 from 10.51.0.0/16 lookup 300 proto static");
  }
  REQUIRE(lines(ns.host_ns.ip("rule show pref 500")) == 2);

  run(k, {remove(ours)});
  std::string left = ns.host_ns.ip("rule show pref 500");
  CHECK(lines(left) == 1);
  CHECK(left.find("proto static") != std::string::npos);
  State interest;
  interest.of<Rule>() = {ours};
  // If the foreign rule has exactly our selectors it is observed (not owned); otherwise nothing is.
  State seen = k.observe(interest);  // a named State: of<>() returns into it
  for (const Rule& r : seen.of<Rule>()) CHECK_FALSE(r.owned);
}
