// The diff is pure: table-driven cases over hand-built desired and observed states.
#include <doctest/doctest.h>

#include <algorithm>

#include "model_builders.h"
#include "topo/diff.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

// "+ route", "- rule", "~ sysctl": one token per change, in plan order.
std::vector<std::string> summary(const Plan& p) {
  std::vector<std::string> out;
  for (const Change& c : p.changes) {
    const char* sign = c.action == Action::Create ? "+" : c.action == Action::Delete ? "-" : "~";
    out.push_back(std::string(sign) + " " + std::string(kind_name(c.object)));
  }
  return out;
}

State full_desired() {
  State s;
  s.of<NatEntry>().push_back(masquerade("host", "vethA", "vethA"));
  s.of<Rule>().push_back(rule("host", 1000, "vethA", 100));
  s.of<Route>().push_back(via(route("container", "0.0.0.0/0", "veth0"), "10.0.0.1"));
  s.of<Route>().push_back(route("container", "10.0.0.1/32", "veth0"));
  s.of<Sysctl>().push_back(sysctl("host", "net.ipv4.conf.vethA.forwarding", "1"));
  s.of<Link>().push_back(veth("vethA", "veth0"));
  return s;
}

}  // namespace

TEST_CASE("creates run links, sysctls, addresses, routes, rules, NAT; link routes before gateway routes") {
  Plan p = diff(full_desired(), {});
  CHECK(summary(p) == std::vector<std::string>{"+ link", "+ sysctl", "+ route", "+ route", "+ rule", "+ nat"});
  // The gateway 10.0.0.1 must be reachable before the default route uses it.
  CHECK(std::get<Route>(p.changes[2].object).dst.str() == "10.0.0.1/32");
  CHECK(std::get<Route>(p.changes[3].object).gateway.has_value());
}

TEST_CASE("the plan does not depend on the order objects were declared in") {
  State a = full_desired();
  State b = a;
  std::reverse(b.of<Route>().begin(), b.of<Route>().end());
  std::reverse(b.of<Link>().begin(), b.of<Link>().end());
  auto pa = diff(a, {}), pb = diff(b, {});
  REQUIRE(pa.changes.size() == pb.changes.size());
  for (size_t i = 0; i < pa.changes.size(); ++i) CHECK(describe(pa.changes[i].object) == describe(pb.changes[i].object));
}

TEST_CASE("objects equal to what the kernel has are not touched") {
  State desired = full_desired();
  State observed = desired;
  for (auto& l : observed.of<Link>()) l.owned = true;
  for (auto& r : observed.of<Route>()) r.owned = true;
  for (auto& r : observed.of<Rule>()) r.owned = true;
  CHECK(diff(desired, observed).empty());
}

TEST_CASE("a changed route of ours is replaced in place, keeping the old value") {
  State desired, observed;
  desired.of<Route>().push_back(route("host", "10.1.0.0/24", "vethA", 100));
  observed.of<Route>().push_back(owned(route("host", "10.1.0.0/24", "vethB", 100)));
  Plan p = diff(desired, observed);
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].action == Action::Replace);
  CHECK(std::get<Route>(*p.changes[0].previous).dev == "vethB");
  CHECK(std::get<Route>(p.changes[0].object).dev == "vethA");
}

TEST_CASE("a foreign object with the same key is a conflict, unless the template takes it over") {
  State desired, observed;
  desired.of<Route>().push_back(via(route("container", "0.0.0.0/0", "veth0"), "10.0.0.1"));
  observed.of<Route>().push_back(via(route("container", "0.0.0.0/0", "eth0"), "10.0.0.254"));
  CHECK_THROWS_AS(diff(desired, observed), ConflictError);
  try {
    diff(desired, observed);
  } catch (const ConflictError& e) {
    CHECK(std::string(e.what()).find("not topocni's") != std::string::npos);
    CHECK(std::string(e.what()).find("via 10.0.0.254 dev eth0") != std::string::npos);
  }
  desired.of<Route>()[0].takeover = true;
  Plan p = diff(desired, observed);
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].action == Action::Replace);
}

TEST_CASE("ours and no longer wanted is deleted; foreign and not wanted is left alone") {
  State observed;
  observed.of<Route>().push_back(owned(route("host", "10.9.0.0/24", "vethA", 100)));
  observed.of<Route>().push_back(route("host", "10.8.0.0/24", "eth1", 100));  // foreign
  observed.of<Rule>().push_back(rule("host", 1000, "eth1", 100));             // foreign, same priority we use
  Plan p = diff({}, observed);
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].action == Action::Delete);
  CHECK(std::get<Route>(p.changes[0].object).dst.str() == "10.9.0.0/24");
}

TEST_CASE("deletes come first, in reverse kind order") {
  State observed;
  Link old = veth("vethOld", "veth9");
  old.owned = true;
  observed.of<Link>().push_back(old);
  observed.of<Route>().push_back(owned(route("host", "10.9.0.0/24", "vethOld", 100)));
  Rule r = rule("host", 1000, "vethOld", 100);
  r.owned = true;
  observed.of<Rule>().push_back(r);
  State desired;
  desired.of<Link>().push_back(veth("vethA", "veth0"));
  CHECK(summary(diff(desired, observed)) == std::vector<std::string>{"- rule", "- route", "- link", "+ link"});
}

TEST_CASE("a referenced interface that does not exist is named in the error") {
  State desired;
  Link eth;
  eth.scope = "host";
  eth.name = "enp5s0f0";
  eth.kind = LinkKind::Existing;
  desired.of<Link>().push_back(eth);
  CHECK_THROWS_WITH_AS(diff(desired, {}), "interface 'enp5s0f0' does not exist in namespace 'host'", ConflictError);
  State observed = desired;
  CHECK(diff(desired, observed).empty());  // present: referenced only, never changed
}

TEST_CASE("a veth peer name taken in the pod is a conflict; a leftover half of ours is replaced") {
  State desired;
  desired.of<Link>().push_back(veth("vethA", "veth0"));
  Link taken;
  taken.scope = "container";
  taken.name = "veth0";
  taken.kind = LinkKind::Veth;
  State observed;
  observed.of<Link>().push_back(taken);
  CHECK_THROWS_WITH_AS(diff(desired, observed), "interface 'veth0' already exists in namespace 'container'",
                       ConflictError);
  observed.of<Link>()[0].owned = true;
  observed.of<Link>()[0].alias = desired.of<Link>()[0].alias;
  CHECK(summary(diff(desired, observed)) == std::vector<std::string>{"- link", "+ link"});
}

TEST_CASE("a sysctl with another value is replaced and its old value kept") {
  State desired, observed;
  desired.of<Sysctl>().push_back(sysctl("container", "net.ipv4.conf.veth0.forwarding", "1"));
  observed.of<Sysctl>().push_back(sysctl("container", "net.ipv4.conf.veth0.forwarding", "0"));
  Plan p = diff(desired, observed);
  REQUIRE(p.changes.size() == 1);
  CHECK(p.changes[0].action == Action::Replace);
  CHECK(std::get<Sysctl>(*p.changes[0].previous).value == "0");
}

TEST_CASE("destroy deletes what is ours in reverse order and restores what we changed") {
  State journaled = full_desired();
  Sysctl global = sysctl("container", "net.ipv4.ip_forward", "1");
  global.previous = "0";
  journaled.of<Sysctl>().push_back(global);
  Sysctl on_veth = journaled.of<Sysctl>()[0];
  on_veth.previous = "0";
  journaled.of<Sysctl>()[0] = on_veth;

  State observed = journaled;
  for (auto& l : observed.of<Link>()) l.owned = true;
  for (auto& r : observed.of<Route>()) r.owned = true;
  for (auto& r : observed.of<Rule>()) r.owned = true;
  observed.of<Route>().push_back(route("host", "10.8.0.0/24", "eth1"));  // foreign: survives

  State taken_over;
  taken_over.of<Route>().push_back(via(route("container", "0.0.0.0/0", "eth0"), "10.0.0.254"));
  taken_over.of<Route>()[0].protocol = 3;  // RTPROT_BOOT, as the earlier plugin made it
  Link eth0;
  eth0.scope = "container";
  eth0.name = "eth0";
  eth0.kind = LinkKind::Existing;
  observed.of<Link>().push_back(eth0);

  Plan p = diff_destroy(journaled, observed, taken_over);
  // vethA's own forwarding sysctl is not restored: the interface goes away. ip_forward goes back to 0.
  CHECK(summary(p) ==
        std::vector<std::string>{"- nat", "- rule", "- route", "- route", "~ sysctl", "- link", "+ route"});
  CHECK(std::get<Sysctl>(p.changes[4].object).value == "0");
  const Route& back = std::get<Route>(p.changes.back().object);
  CHECK(back.dev == "eth0");
  CHECK(back.gateway->str() == "10.0.0.254");
  CHECK(back.protocol == 3);  // put back as it was, not marked ours

  // Without the interface, the taken-over route is not put back.
  observed.of<Link>().pop_back();
  CHECK(summary(diff_destroy(journaled, observed, taken_over)).back() == "- link");
}

TEST_CASE("destroy leaves a sysctl someone changed after us alone") {
  State journaled;
  Sysctl s = sysctl("host", "net.ipv4.ip_forward", "1");
  s.previous = "0";
  journaled.of<Sysctl>().push_back(s);
  State observed;
  observed.of<Sysctl>().push_back(sysctl("host", "net.ipv4.ip_forward", "2"));
  CHECK(diff_destroy(journaled, observed, {}).empty());
}

TEST_CASE("a route the template says must be absent is deleted whoever owns it, and only that one") {
  State desired, observed;
  Route gone = route("container", "10.10.20.0/24", "eth0");
  gone.absent = true;
  desired.of<Route>().push_back(gone);
  desired.of<Route>().push_back(route("container", "10.10.20.0/24", "eth0", 100));
  Route connected = route("container", "10.10.20.0/24", "eth0");
  connected.protocol = 2;  // RTPROT_KERNEL: the connected route the kernel made
  observed.of<Route>().push_back(connected);
  observed.of<Route>().push_back(route("container", "10.10.30.0/24", "eth0"));  // foreign, not named: stays
  Plan p = diff(desired, observed);
  CHECK(summary(p) == std::vector<std::string>{"- route", "+ route"});
  CHECK(std::get<Route>(p.changes[0].object).protocol == 2);
  CHECK(std::get<Route>(p.changes[1].object).table == 100);
  // Absent and already gone: nothing to do for it.
  observed.of<Route>().erase(observed.of<Route>().begin());
  CHECK(summary(diff(desired, observed)) == std::vector<std::string>{"+ route"});
}

TEST_CASE("a key both absent and present is replaced by the present route, and a second plan is empty") {
  // route-override: flushroutes names the previous plugin's default route, addroutes adds another one.
  State desired;
  Route gone = route("container", "0.0.0.0/0", "eth0");
  gone.absent = true;
  desired.of<Route>().push_back(gone);
  desired.of<Route>().push_back(via(route("container", "0.0.0.0/0", "eth0"), "10.10.20.2"));
  State observed;
  Route theirs = via(route("container", "0.0.0.0/0", "eth0"), "10.10.20.254");
  theirs.protocol = 3;  // RTPROT_BOOT: the previous plugin's
  observed.of<Route>().push_back(theirs);
  Plan p = diff(desired, observed);
  REQUIRE(summary(p) == std::vector<std::string>{"~ route"});
  // A takeover: the previous route travels with the change, so it is journaled and put back on DEL.
  REQUIRE(p.changes[0].previous.has_value());
  CHECK(std::get<Route>(*p.changes[0].previous).gateway == theirs.gateway);
  CHECK(std::get<Route>(p.changes[0].object).gateway == desired.of<Route>()[1].gateway);
  // After ADD the key holds our route: nothing to do (it is not deleted and re-created every time).
  observed.of<Route>()[0] = owned(desired.of<Route>()[1]);
  CHECK(diff(desired, observed).empty());
  // Nothing holds the key: the present route is created, the absent one has nothing to delete.
  CHECK(summary(diff(desired, {})) == std::vector<std::string>{"+ route"});
}

TEST_CASE("an absent route deletes a route of ours that holds its key, when nothing present claims it") {
  State desired;
  Route gone = route("container", "0.0.0.0/0", "eth0");
  gone.absent = true;
  desired.of<Route>().push_back(gone);
  State observed;
  observed.of<Route>().push_back(owned(via(route("container", "0.0.0.0/0", "eth0"), "10.10.20.2")));
  CHECK(summary(diff(desired, observed)) == std::vector<std::string>{"- route"});
}
