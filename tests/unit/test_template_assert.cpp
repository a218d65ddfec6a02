// A template's own refusals (`assert:`): both forms, their messages with interpolation and positions, the
// error type the plugin maps to CNI code 7, and the load-time checks of the list itself.
#include <doctest/doctest.h>

#include "template_fakes.h"
#include "topo/error.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;

namespace {

const char* kTemplate = R"(parameters:
  uplink: {type: ifname, default: eth0}
vars:
  v6: "${ prev.ips | ipv6 | length }"
assert:
  - that: "${ vars.v6 == 0 or host_sysctl('net.ipv6.conf.all.disable_ipv6') == '0' }"
    message: this pod has IPv6 but the node has none
  - fail: "${ params.uplink } is not up"
    when: "${ not host_link(params.uplink).up }"
host:
  links:
    - {name: vh0, peer: {name: eth1}, mtu: "${ host_link(params.uplink).mtu }"}
)";

Rendered render(test::FakeFacts& facts, const json& prev) {
  Template t = Template::load({"t", "t.yaml", kTemplate});
  RenderContext ctx;
  ctx.prev = prev;
  ctx.facts = &facts;
  return t.render(ctx);
}

json prev_with(std::initializer_list<const char*> ips) {
  json p = {{"cniVersion", "1.0.0"}, {"ips", json::array()}};
  for (const char* ip : ips) p["ips"].push_back({{"address", ip}});
  return p;
}

}  // namespace

TEST_CASE("assert: a template refuses with its own message, at the assertion's position") {
  test::FakeFacts facts;
  facts.links["eth0"] = {{"name", "eth0"}, {"kind", "veth"}, {"mtu", 1450}, {"mac", "02:00:00:00:00:01"}, {"up", true}};
  facts.sysctls["net.ipv6.conf.all.disable_ipv6"] = "1";

  SUBCASE("nothing to refuse: the veth follows the uplink's mtu") {
    Rendered r = render(facts, prev_with({"10.0.0.5/24"}));
    REQUIRE(r.state.of<Link>().size() == 1);
    CHECK(r.state.of<Link>()[0].mtu == 1450u);
  }
  SUBCASE("that: false") {
    try {
      render(facts, prev_with({"10.0.0.5/24", "fd00::5/64"}));
      FAIL("no error");
    } catch (const TemplateAssertionError& e) {
      CHECK(e.file == "t.yaml");
      CHECK(e.line == 6);
      CHECK(e.path == "assert[0]");
      CHECK(e.message == "this pod has IPv6 but the node has none");
    }
  }
  SUBCASE("fail: when true, message interpolated") {
    facts.links["eth0"]["up"] = false;
    try {
      render(facts, prev_with({"10.0.0.5/24"}));
      FAIL("no error");
    } catch (const TemplateAssertionError& e) {
      CHECK(e.line == 8);
      CHECK(e.path == "assert[1]");
      CHECK(e.message == "eth0 is not up");
    }
  }
}

TEST_CASE("assert: the list is checked when the template loads") {
  auto load_error = [](const std::string& yaml) {
    try {
      Template::load({"t", "t.yaml", yaml});
    } catch (const SpecError& e) {
      return e.path + ": " + e.message;
    }
    return std::string("no error");
  };
  CHECK(load_error("assert:\n  - that: \"${ true }\"\n") == "assert[0].message: an assertion needs a message for the user");
  CHECK(load_error("assert:\n  - {message: x}\n") == "assert[0]: an assertion needs `that:` (with `message:`) or `fail:`");
  CHECK(load_error("assert:\n  - {that: x, fail: y}\n") ==
        "assert[0]: an assertion is either {that: condition, message: text} or {fail: text, when: condition}");
  CHECK(load_error("assert: {that: x}\n") == "assert: expected a list of assertions, found a map");
  CHECK(load_error("assert:\n  - {that: \"${ nope(1) }\", message: m}\n").find("unknown function 'nope'") != std::string::npos);
}

TEST_CASE("assert: loop checks each element with item and index bound, and an object parameter loops with items") {
  const char* yaml = R"(parameters:
  sysctl: {type: object, default: {}}
  mac: {type: mac}
assert:
  - loop: params.sysctl | items
    that: "${ item.key | starts_with('net.') }"
    message: "sysctl: '${ item.key }' (entry ${ index }) is not a net.* sysctl"
container:
  sysctls:
    - {loop: params.sysctl | items, name: "${ item.key }", value: "${ item.value }"}
)";
  Template t = Template::load({"t", "t.yaml", yaml});
  auto with = [&](const json& config) {
    RenderContext ctx;
    ctx.config = config;
    return t.render(ctx);
  };
  Rendered ok = with({{"sysctl", {{"net.ipv4.conf.eth0.rp_filter", "2"}, {"net.core.somaxconn", "500"}}}});
  REQUIRE(ok.state.of<Sysctl>().size() == 2);
  CHECK(ok.state.of<Sysctl>()[0].name == "net.core.somaxconn");  // key order: stable across runs
  CHECK(with(json::object()).state.of<Sysctl>().empty());
  try {
    with({{"sysctl", {{"net.core.somaxconn", "500"}, {"vm.swappiness", "1"}}}});
    FAIL("no error");
  } catch (const TemplateAssertionError& e) {
    CHECK(e.line == 5);
    CHECK(e.path == "assert[0]");
    CHECK(e.message == "sysctl: 'vm.swappiness' (entry 1) is not a net.* sysctl");
  }
  // The parameter types: an object, and a unicast MAC; both refused against the config key.
  auto config_error = [&](const json& config) {
    try {
      with(config);
    } catch (const SpecError& e) {
      return e.file + ": " + e.path + ": " + e.message;
    }
    return std::string("no error");
  };
  CHECK(config_error({{"sysctl", "net.x=1"}}) ==
        "<network config>: config.sysctl: parameter 'sysctl' (object): expected an object, found 'net.x=1' (string)");
  CHECK(config_error({{"mac", "02:00:00:00:00:0g"}}) ==
        "<network config>: config.mac: parameter 'mac' (mac): expected a MAC address (aa:bb:cc:dd:ee:ff), found "
        "'02:00:00:00:00:0g' (string)");
  CHECK(config_error({{"mac", "01:00:5e:00:00:01"}}) ==
        "<network config>: config.mac: parameter 'mac' (mac): 01:00:5e:00:00:01 is a multicast or zero address; an "
        "interface needs a unicast one");
  CHECK(config_error({{"mac", "02:00:00:00:00:01"}}) == "no error");
}
