// `state: absent` on every kind that has it (kinds/absent.h): template errors, the diff, DEL's restore and the
// journal's round trip. Routes have their own cases in test_diff.cpp and test_template_render.cpp.
#include <doctest/doctest.h>

#include <algorithm>

#include "model_builders.h"
#include "template_fakes.h"
#include "topo/diff.h"
#include "topo/error.h"
#include "topo/journal_format.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;
using namespace topo::test;

namespace {

Rendered render(const std::string& yaml) {
  Template t = Template::load({"t", "t.yaml", yaml});
  return t.render({});
}

SpecError fails(const std::string& yaml) {
  return spec_error_of([&] { render(yaml); });
}

std::vector<std::string> summary(const Plan& p) {
  std::vector<std::string> out;
  for (const Change& c : p.changes) {
    const char* sign = c.action == Action::Create ? "+" : c.action == Action::Delete ? "-" : "~";
    out.push_back(std::string(sign) + " " + describe(c.object));
  }
  return out;
}

Address address(const char* scope, const char* dev, const char* local) {
  Address a;
  a.scope = scope;
  a.dev = dev;
  a.local = pfx(local);
  return a;
}

Neighbour neighbour(const char* scope, const char* dev, const char* addr, const char* mac) {
  Neighbour n;
  n.scope = scope;
  n.dev = dev;
  n.address = ip(addr);
  n.lladdr = *MacAddress::parse(mac);
  return n;
}

template <class K>
K absent(K k) {
  k.absent = true;
  return k;
}

template <class K>
K mine(K k) {
  k.owned = true;
  return k;
}

Link existing(const char* scope, const char* name) {
  Link l;
  l.scope = scope;
  l.name = name;
  l.kind = LinkKind::Existing;
  return l;
}

}  // namespace

TEST_CASE("state: absent renders only the key of an address, a neighbour and a rule") {
  auto r = render(R"(
container:
  addresses:
    - {dev: eth0, address: 10.1.0.5/24, state: absent}
    - {dev: eth0, address: 10.2.0.5/24, state: present}
  neighbours:
    - {dev: eth0, address: 10.1.0.1, state: absent}
  rules:
    - {priority: 100, from: 10.1.0.0/16, state: absent}
)");
  REQUIRE(r.state.of<Address>().size() == 2);
  CHECK(r.state.of<Address>()[0].absent);
  CHECK(r.state.of<Address>()[0].local == pfx("10.1.0.5/24"));
  CHECK_FALSE(r.state.of<Address>()[1].absent);
  REQUIRE(r.state.of<Neighbour>().size() == 1);
  CHECK(r.state.of<Neighbour>()[0].absent);
  CHECK(r.state.of<Neighbour>()[0].address == ip("10.1.0.1"));
  REQUIRE(r.state.of<Rule>().size() == 1);
  CHECK(r.state.of<Rule>()[0].absent);
  CHECK(r.state.of<Rule>()[0].priority == 100);
  CHECK(r.state.of<Rule>()[0].from == pfx("10.1.0.0/16"));
}

TEST_CASE("an absent item with an attribute outside its key is a positioned error") {
  auto a = fails("container:\n  addresses:\n    - {dev: eth0, address: fd00::5/64, nodad: true, state: absent}\n");
  CHECK(a.path == "container.addresses[0].nodad");
  CHECK(a.line == 3);
  CHECK(a.message.find("state: absent") != std::string::npos);
  auto n = fails("container:\n  neighbours:\n    - {dev: eth0, address: 10.1.0.1, lladdr: \"02:00:00:00:00:01\", state: absent}\n");
  CHECK(n.path == "container.neighbours[0].lladdr");
  CHECK(n.message.find("whatever its 'lladdr'") != std::string::npos);
  auto r = fails("host:\n  rules:\n    - {priority: 100, iif: veth1, table: 100, state: absent}\n");
  CHECK(r.path == "host.rules[0].table");
  auto s = fails("host:\n  rules:\n    - {priority: 100, table: 100, state: gone}\n");
  CHECK(s.path == "host.rules[0].state");
  CHECK(s.message == "expected one of present, absent, found 'gone' (string)");
}

TEST_CASE("a present neighbour still needs its lladdr, a present rule its table") {
  auto n = fails("container:\n  neighbours:\n    - {dev: eth0, address: 10.1.0.1}\n");
  CHECK(n.path == "container.neighbours[0].lladdr");
  CHECK(n.message.find("needs the key 'lladdr'") != std::string::npos);
  auto r = fails("host:\n  rules:\n    - {priority: 100, iif: veth1}\n");
  CHECK(r.path == "host.rules[0].table");
  CHECK(r.message.find("needs the key 'table'") != std::string::npos);
}

TEST_CASE("links, sysctls and NAT rules refuse state: absent, saying why") {
  auto l = fails("host:\n  links:\n    - {name: eth9, kind: existing, state: absent}\n");
  CHECK(l.path == "host.links[0].state");
  CHECK(l.message.find("not supported on a link") != std::string::npos);
  auto s = fails("host:\n  sysctls:\n    - {name: net.ipv4.ip_forward, value: 1, state: absent}\n");
  CHECK(s.path == "host.sysctls[0].state");
  CHECK(s.message.find("not supported on a sysctl") != std::string::npos);
  auto n = fails("host:\n  nat:\n    - {action: masquerade, oif: eth0, state: absent}\n");
  CHECK(n.path == "host.nat[0].state");
  CHECK(n.message.find("not supported on a nat rule") != std::string::npos);
  // `state: present` is what they are anyway.
  CHECK(render("host:\n  sysctls:\n    - {name: net.ipv4.ip_forward, value: 1, state: present}\n").state.of<Sysctl>().size() == 1);
}

TEST_CASE("an absent address, neighbour or rule deletes whatever holds its key, foreign or ours, and nothing else") {
  State desired, observed;
  desired.of<Address>().push_back(absent(address("container", "eth0", "10.1.0.5/24")));
  desired.of<Neighbour>().push_back(absent(neighbour("container", "eth0", "10.1.0.1", "00:00:00:00:00:00")));
  Rule r = rule("container", 100, "", 0);
  r.from = pfx("10.1.0.0/16");
  desired.of<Rule>().push_back(absent(r));

  observed.of<Address>().push_back(address("container", "eth0", "10.1.0.5/24"));         // foreign
  observed.of<Address>().push_back(address("container", "eth0", "10.1.0.6/24"));         // foreign, other key
  observed.of<Neighbour>().push_back(mine(neighbour("container", "eth0", "10.1.0.1", "02:00:00:00:00:07")));
  Rule theirs = r;
  theirs.table = 200;  // not in the key: it goes whatever it looks up
  observed.of<Rule>().push_back(theirs);
  Plan p = diff(desired, observed);
  CHECK(summary(p) == std::vector<std::string>{"- rule pref 100 from 10.1.0.0/16 lookup 200",
                                               "- neighbour 10.1.0.1 lladdr 02:00:00:00:00:07 dev eth0 nud permanent",
                                               "- address 10.1.0.5/24 dev eth0"});
  // Once gone, a second plan is empty (the re-apply does nothing).
  observed.of<Address>().erase(observed.of<Address>().begin());
  observed.of<Neighbour>().clear();
  observed.of<Rule>().clear();
  CHECK(diff(desired, observed).empty());
}

TEST_CASE("an address both absent and present is a conflict (only routes have a takeover)") {
  State desired;
  desired.of<Address>().push_back(absent(address("container", "eth0", "10.1.0.5/24")));
  desired.of<Address>().push_back(address("container", "eth0", "10.1.0.5/24"));
  CHECK_THROWS_AS(diff(desired, {}), ConflictError);
}

TEST_CASE("DEL puts back each taken-over object whose device is there and whose key is free") {
  State taken_over, observed;
  taken_over.of<Address>().push_back(address("container", "eth0", "10.1.0.5/24"));
  taken_over.of<Address>().push_back(address("container", "gone0", "10.3.0.5/24"));  // its device went
  taken_over.of<Neighbour>().push_back(neighbour("container", "eth0", "10.1.0.1", "02:00:00:00:00:09"));
  Rule r = rule("container", 100, "", 200);
  r.from = pfx("10.1.0.0/16");
  taken_over.of<Rule>().push_back(r);  // needs no device
  observed.of<Link>().push_back(existing("container", "eth0"));
  // Someone made the neighbour again since: theirs stays, ours is not forced over it.
  observed.of<Neighbour>().push_back(neighbour("container", "eth0", "10.1.0.1", "02:00:00:00:00:0a"));
  Plan p = diff_destroy({}, observed, taken_over);
  CHECK(summary(p) == std::vector<std::string>{"+ address 10.1.0.5/24 dev eth0",
                                               "+ rule pref 100 from 10.1.0.0/16 lookup 200"});
}

TEST_CASE("journal format 3 reads back absent items and taken-over objects of every kind exactly") {
  JournalRecord rec;
  rec.attachment = {"cni0", "abc", "eth0"};
  rec.template_name = "t";
  rec.netns = "/var/run/netns/p1";
  rec.state.of<Address>().push_back(absent(address("container", "eth0", "10.1.0.5/24")));
  rec.state.of<Neighbour>().push_back(absent(neighbour("container", "eth0", "10.1.0.1", "00:00:00:00:00:00")));
  Rule r = rule("container", 100, "", 0);
  r.from = pfx("10.1.0.0/16");
  rec.state.of<Rule>().push_back(absent(r));
  rec.taken_over.of<Address>().push_back(address("container", "eth0", "10.1.0.5/24"));
  rec.taken_over.of<Neighbour>().push_back(neighbour("container", "eth0", "10.1.0.1", "02:00:00:00:00:09"));
  r.table = 200;
  rec.taken_over.of<Rule>().push_back(r);
  json written = journal_record_to_json(rec);
  CHECK(written.at("format") == kJournalFormat);  // format 3 added them; 4 changed nothing of them
  CHECK_FALSE(written["state"]["neighbours"][0].contains("lladdr"));  // an absent entry is only its key
  JournalParse p = parse_journal_record(written.dump(), "/run/topocni/cni0/abc-eth0.json");
  CHECK_FALSE(p.damaged());
  CHECK(journal_record_to_json(p.record) == written);
  CHECK(p.record.state.of<Neighbour>()[0].absent);
  CHECK(p.record.taken_over.of<Rule>()[0].table == 200);
  // Format 2 (what the release before wrote) still reads.
  written["format"] = 2;
  CHECK_FALSE(parse_journal_record(written.dump(), "/run/topocni/cni0/abc-eth0.json").damaged());
  // An absent key on a present-only place is caught: a stray "state" on a sysctl is not topocni's writing.
  json bad = written;
  bad["state"]["sysctls"] = json::array({{{"namespace", "host"}, {"name", "net.ipv4.ip_forward"}, {"value", "1"}, {"state", "absent"}}});
  CHECK(parse_journal_record(bad.dump(), "/run/topocni/cni0/abc-eth0.json").damaged());
}
