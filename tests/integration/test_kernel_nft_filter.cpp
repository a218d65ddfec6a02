// Filter and mark rules of the nat kind against the real kernel, through Kernel, in throwaway namespaces:
// apply, read back equal, a second plan is empty (nothing is sent: every rule keeps its handle), DEL leaves
// `nft list ruleset` as before, and a foreign table, chain and rule are never touched.
#include <doctest/doctest.h>

#include <algorithm>

#include "netns_fixture.h"
#include "topo/diff.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

namespace {

NatEntry rule(NftHook hook, NatAction action, const char* owner = "cni0/c1/eth0") {
  NatEntry e;
  e.scope = "host";
  e.hook = hook;
  e.action = action;
  e.owner = owner;
  return e;
}

// The reply-path pattern (docs/templates.md) and one rule of every other shape.
std::vector<NatEntry> rules() {
  std::vector<NatEntry> out;
  NatEntry in = rule(NftHook::Prerouting, NatAction::None);
  in.iif = "veth0";
  in.ctstate = kCtNew;
  in.set_ctmark = MarkSet{false, {0x10, 0xFFFFFFFF}};
  out.push_back(in);
  NatEntry reply = rule(NftHook::Output, NatAction::None);
  reply.ctmark = MarkValue{0x10, 0xff};
  reply.set_mark = MarkSet{true, {}};
  out.push_back(reply);
  NatEntry invalid = rule(NftHook::Forward, NatAction::Drop);
  invalid.ctstate = kCtInvalid;
  out.push_back(invalid);
  NatEntry v6 = rule(NftHook::Input, NatAction::Accept);
  v6.family = Family::V6;
  v6.ctstate = kCtEstablished | kCtRelated;
  v6.mark = MarkValue{0x20, 0xf0};
  out.push_back(v6);
  NatEntry save = rule(NftHook::Postrouting, NatAction::None);
  save.oif = "eth0";
  save.set_ctmark = MarkSet{true, {}};
  out.push_back(save);
  NatEntry masked = rule(NftHook::Output, NatAction::Accept);
  masked.set_mark = MarkSet{false, {0x100, 0xf00}};
  out.push_back(masked);
  NatEntry dnat = rule(NftHook::Postrouting, NatAction::Dnat);
  dnat.daddr = pfx("192.0.2.10/32");
  dnat.to = addr("10.60.0.2");
  dnat.set_ctmark = MarkSet{false, {0x10, 0xFFFFFFFF}};
  out.push_back(dnat);
  return out;
}

std::vector<NatEntry> sorted(std::vector<NatEntry> v) {
  std::sort(v.begin(), v.end(), [](const NatEntry& a, const NatEntry& b) { return a.key() < b.key(); });
  return v;
}

const char* kForeign = R"(table inet topocni_neighbour {
  chain forward { type filter hook forward priority filter; policy accept; ct state invalid counter drop; }
}
table ip mangle {
  chain output { type route hook output priority mangle; policy accept; meta mark set 0x7 counter; }
}
)";

}  // namespace

TEST_CASE(
    "kernel: filter and mark rules apply, read back equal, re-apply sends nothing, DEL restores the "
    "ruleset") {
  Netns ns;
  ScopeMap scopes = {{"host", ns.path()}};
  ns.exec("sh -c 'printf \"%s\" \"$0\" | nft -f -' '" + std::string(kForeign) + "'");
  // A chain of ours by name in a table of ours would be ours; a foreign rule in a foreign chain of the same
  // hook must survive everything.
  const std::string before = ns.exec("nft list ruleset");
  REQUIRE(before.find("topocni_neighbour") != std::string::npos);

  Kernel k(scopes);
  State desired;
  desired.of<NatEntry>() = rules();
  State interest = desired;
  REQUIRE(k.observe(interest).of<NatEntry>().empty());

  Plan first = diff(desired, k.observe(interest));
  CHECK(first.changes.size() == desired.of<NatEntry>().size());
  run(k, first.changes);

  State got = k.observe(interest);
  CHECK(sorted(got.of<NatEntry>()) == sorted(desired.of<NatEntry>()));

  // Re-apply: the decoded rules equal the desired ones, so the plan is empty; nothing changed in the kernel
  // (every handle and the whole listing with handles are as they were).
  const std::string with_handles = ns.exec("nft -a list table inet topocni");
  Plan again = diff(desired, got);
  CHECK(again.empty());
  run(k, again.changes);
  CHECK(ns.exec("nft -a list table inet topocni") == with_handles);

  // What an admin sees.
  const std::string ours = ns.exec("nft list table inet topocni");
  CAPTURE(ours);
  for (const char* line :
       {"chain filter-prerouting {", "type filter hook prerouting priority mangle; policy accept;",
        "meta nfproto ipv4 iifname \"veth0\" ct state new ct mark set 0x00000010 comment "
        "\"topocni:cni0/c1/eth0\"",
        "chain filter-output {", "type route hook output priority mangle; policy accept;",
        "meta nfproto ipv4 ct mark & 0x000000ff == 0x00000010 meta mark set ct mark comment",
        "meta nfproto ipv4 ct state invalid drop comment", "chain filter-input {",
        "meta nfproto ipv6 meta mark & 0x000000f0 == 0x00000020 ct state established,related accept comment",
        "meta nfproto ipv4 oifname \"eth0\" ct mark set meta mark comment",
        "ip daddr 192.0.2.10 ct mark set 0x00000010 dnat ip to 10.60.0.2 comment",
        "comment \"managed by topocni\""}) {
    CHECK_MESSAGE(ours.find(line) != std::string::npos, line);
  }

  // A second owner's rule in the same chain stays when the first owner's go.
  NatEntry other = rule(NftHook::Forward, NatAction::Drop, "cni0/c2/eth0");
  other.ctstate = kCtInvalid;
  run(k, {create(other)});

  Plan destroy = diff_destroy(desired, k.observe(interest), State{});
  CHECK(destroy.changes.size() == desired.of<NatEntry>().size());
  run(k, destroy.changes);
  CHECK(k.observe(interest).of<NatEntry>().empty());
  State others;
  others.of<NatEntry>() = {other};
  CHECK(k.observe(others).of<NatEntry>() == std::vector<NatEntry>{other});
  const std::string left = ns.exec("nft list table inet topocni");
  CHECK(left.find("chain filter-forward") != std::string::npos);
  CHECK(left.find("chain filter-output") == std::string::npos);  // no empty chain of ours stays

  run(k, {remove(other)});
  CHECK(ns.exec("nft list ruleset") == before);
}

TEST_CASE("kernel: a chain of a filter rule's name defined otherwise is a conflict, nothing changed") {
  Netns ns;
  Kernel k({{"host", ns.path()}});
  // The chain has our name but is a filter chain at the wrong priority: a rule there would run at another
  // point than the template says.
  ns.exec("nft add table inet topocni");
  ns.exec("nft 'add chain inet topocni filter-output { type filter hook output priority 0; }'");
  const std::string before = ns.exec("nft list ruleset");
  NatEntry e = rule(NftHook::Output, NatAction::None);
  e.set_mark = MarkSet{true, {}};
  Progress done;
  std::vector<Change> changes = {create(e)};
  try {
    k.execute(changes, done);
    FAIL("no ConflictError");
  } catch (const ConflictError& err) {
    CHECK(std::string(err.what()).find("where topocni needs type route hook output priority -150") !=
          std::string::npos);
  }
  CHECK(ns.exec("nft list ruleset") == before);
}
