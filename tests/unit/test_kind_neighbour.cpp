// The neighbour kind, added through the kind registry: its template items, their errors with positions, its
// journal JSON, its plan text and its diff policy.
#include <doctest/doctest.h>

#include "template_fakes.h"
#include "topo/diff.h"
#include "topo/error.h"
#include "topo/model/json.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;

namespace {

Rendered render(const std::string& yaml) {
  Template t = Template::load({"t", "t.yaml", yaml});
  return t.render({});
}

}  // namespace

TEST_CASE("MAC addresses parse in either case and print in lower case") {
  auto m = MacAddress::parse("02:AA:bb:0C:dd:ef");
  REQUIRE(m);
  CHECK(m->str() == "02:aa:bb:0c:dd:ef");
  for (const char* bad : {"", "02:aa:bb:cc:dd", "02:aa:bb:cc:dd:ee:ff", "02-aa-bb-cc-dd-ee", "0g:aa:bb:cc:dd:ee",
                          "02:aa:bb:cc:dd:e", "02:aa:bb:cc:dd:eee"})
    CHECK_FALSE(MacAddress::parse(bad));
}

TEST_CASE("neighbours render from a template, in both families") {
  auto r = render(R"(
container:
  neighbours:
    - {dev: eth0, address: 10.10.20.254, lladdr: "02:00:00:00:00:fe"}
    - {dev: eth0, address: "fd00::1", lladdr: "02:00:00:00:00:FF"}
)");
  REQUIRE(r.state.of<Neighbour>().size() == 2);
  const Neighbour& v4 = r.state.of<Neighbour>()[0];
  CHECK(v4.scope == "container");
  CHECK(v4.dev == "eth0");
  CHECK(v4.address == *IpAddress::parse("10.10.20.254"));
  CHECK(v4.lladdr.str() == "02:00:00:00:00:fe");
  CHECK(r.state.of<Neighbour>()[1].address.family == Family::V6);
  CHECK(describe(Object(v4)) == "neighbour 10.10.20.254 lladdr 02:00:00:00:00:fe dev eth0 nud permanent");
}

TEST_CASE("neighbour errors name the file, line and key") {
  auto fails = [](const std::string& yaml) { return test::spec_error_of([&] { render(yaml); }); };
  auto mac = fails("host:\n  neighbours:\n    - {dev: eth0, address: 10.0.0.1, lladdr: \"02:00:00:00:00\"}\n");
  CHECK(mac.path == "host.neighbours[0].lladdr");
  CHECK(mac.line == 3);
  CHECK(mac.message.find("is not a MAC address") != std::string::npos);
  auto multicast = fails("host:\n  neighbours:\n    - {dev: eth0, address: 10.0.0.1, lladdr: \"01:00:5e:00:00:01\"}\n");
  CHECK(multicast.message.find("multicast") != std::string::npos);
  auto missing = fails("host:\n  neighbours:\n    - {dev: eth0, address: 10.0.0.1}\n");
  CHECK(missing.path == "host.neighbours[0].lladdr");
  auto unknown = fails("host:\n  neighbours:\n    - {dev: eth0, address: 10.0.0.1, lladdr: \"02:00:00:00:00:01\", nud: x}\n");
  CHECK(unknown.path == "host.neighbours[0].nud");
  auto ip = fails("host:\n  neighbours:\n    - {dev: eth0, address: 10.0.0.300, lladdr: \"02:00:00:00:00:01\"}\n");
  CHECK(ip.path == "host.neighbours[0].address");
}

TEST_CASE("neighbours survive the journal's JSON") {
  State s = render("host:\n  neighbours:\n    - {dev: v, address: \"fd00::2\", lladdr: \"02:00:00:00:00:02\"}\n").state;
  json j = s;
  CHECK(j["neighbours"][0]["lladdr"] == "02:00:00:00:00:02");
  State back = j.get<State>();
  REQUIRE(back.of<Neighbour>().size() == 1);
  CHECK(back.of<Neighbour>()[0] == s.of<Neighbour>()[0]);
  CHECK(std::holds_alternative<Neighbour>(object_from_json("neighbour", object_to_json(Object(s.of<Neighbour>()[0])))));
}

TEST_CASE("diff: a neighbour is created after addresses and before routes; a foreign one is a conflict") {
  Neighbour n;
  n.scope = "host";
  n.dev = "v";
  n.address = *IpAddress::parse("10.0.0.1");
  n.lladdr = *MacAddress::parse("02:00:00:00:00:01");
  Route r;
  r.scope = "host";
  r.dst = *IpPrefix::parse("10.9.0.0/16");
  r.gateway = n.address;
  r.dev = "v";
  Address a;
  a.scope = "host";
  a.dev = "v";
  a.local = *IpPrefix::parse("10.0.0.2/24");
  State desired;
  desired.of<Route>() = {r};
  desired.of<Neighbour>() = {n};
  desired.of<Address>() = {a};
  Plan p = diff(desired, State{});
  REQUIRE(p.changes.size() == 3);
  CHECK(std::holds_alternative<Address>(p.changes[0].object));
  CHECK(std::holds_alternative<Neighbour>(p.changes[1].object));
  CHECK(std::holds_alternative<Route>(p.changes[2].object));

  State observed;
  Neighbour learnt = n;
  learnt.lladdr = *MacAddress::parse("02:00:00:00:00:09");
  learnt.owned = false;
  observed.of<Neighbour>() = {learnt};
  CHECK_THROWS_AS(diff(desired, observed), ConflictError);
  learnt.owned = true;
  observed.of<Neighbour>() = {learnt};
  Plan replace = diff(desired, observed);
  REQUIRE(replace.changes.size() == 3);  // the address and the route are still to be created
  CHECK(replace.count(Action::Replace) == 1);
}
