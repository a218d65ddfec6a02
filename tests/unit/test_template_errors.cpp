// Every kind of template and config error, with its exact file:line:column and path.
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "template/typo.h"
#include "template_fakes.h"
#include "topo/error.h"
#include "topo/template/template.h"

using nlohmann::json;
using namespace topo;

namespace {

struct Where {
  std::string file;
  int line, column;
  std::string path, message;
};

// Loads and renders; returns where the error was, or an empty file name when there was none.
Where error_of(const std::string& yaml, json config = json::object(), json prev = nullptr) {
  test::FakeFacts facts;
  facts.addrs["eth0"] = {"192.168.1.10/24"};
  test::FakeAllocator alloc;
  try {
    Template t = Template::load({"t", "t.yaml", yaml});
    t.render({config, {{"ifname", "eth0"}, {"attachment", "a"}}, prev, &facts, &alloc});
  } catch (const SpecError& e) {
    return {e.file, e.line, e.column, e.path, e.message};
  }
  return {};
}

void check(const Where& got, const Where& want) {
  CHECK(got.file == want.file);
  CHECK(got.line == want.line);
  CHECK(got.column == want.column);
  CHECK(got.path == want.path);
  CHECK(got.message == want.message);
}

}  // namespace

TEST_CASE("aliases are read as copies, and a text that expands past the node limit is refused, not walked") {
  // An alias is its anchor's value again: the second route's dst is the first one's.
  test::FakeFacts facts;
  test::FakeAllocator alloc;
  Template t = Template::load(
      {"t", "t.yaml", "host:\n  routes:\n    - {dst: &d 10.0.0.0/8, dev: eth0}\n    - {dst: *d, dev: eth1}\n"});
  Rendered r = t.render({json::object(), {{"ifname", "eth0"}, {"attachment", "a"}}, nullptr, &facts, &alloc});
  REQUIRE(r.state.of<Route>().size() == 2);
  CHECK(r.state.of<Route>()[0].dst == r.state.of<Route>()[1].dst);
  // Ten levels of ten aliases each: 10^10 nodes once expanded. Refused at the parser's end.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  Where w = error_of(bomb);
  CHECK(w.file == "t.yaml");
  CHECK(w.message.find("the template is too large: more than 200000 nodes") == 0);
}

TEST_CASE("structure errors at load") {
  check(error_of("host: [\n"), {"t.yaml", 2, 1, "", "not valid YAML: end of sequence flow not found"});
  check(error_of(""), {"t.yaml", 0, 0, "", "the template is empty"});
  check(error_of("nmae: t\n"), {"t.yaml", 1, 1, "nmae",
                                "unknown key 'nmae' in a template; expected one of: name, description, "
                                "include, parameters, allocate, vars, assert, host, "
                                "container, shared, ipam, result"});
  check(error_of("name: other\n"),
        {"t.yaml", 1, 7, "name", "the name must be the file's stem 't', found the scalar 'other'"});
  check(
      error_of("host:\n  routes:\n    - {dst: 10.0.0.0/8, dev: eth0}\n    - {dst: 10.0.0.0/8, deev: eth0}\n"),
      {"t.yaml", 4, 25, "host.routes[1].deev",
       "unknown key 'deev' in a route; expected one of: dst, via, dev, table, metric, tos, src, scope, type, "
       "onlink, takeover, state, loop, when"});
  check(error_of("host:\n  routes:\n    - dev: eth0\n"),
        {"t.yaml", 3, 7, "host.routes[0].dst", "a route needs the key 'dst'"});
  check(error_of("host:\n  rules:\n    - {priority: 1, table: 5, table: 6}\n"),
        {"t.yaml", 3, 31, "host.rules[0].table", "duplicate key 'table'"});
  check(error_of("host:\n  routes: {dst: x}\n"),
        {"t.yaml", 2, 11, "host.routes", "expected a list of routes, found a map"});
  check(error_of("host:\n  routes:\n    - {dst: [1, 2]}\n"),
        {"t.yaml", 3, 13, "host.routes[0].dst", "expected a single value, found a list"});
  check(error_of("host:\n  links:\n    - {name: a, peer: b}\n"),
        {"t.yaml", 3, 23, "host.links[0].peer", "expected a veth peer (a map), found the scalar 'b'"});
  check(error_of("host:\n  nat:\n    - {action: masquerade, iif: {nott: x}}\n"),
        {"t.yaml", 3, 34, "host.nat[0].iif.nott",
         "unknown key 'nott' in a negated match; expected one of: not"});
  check(error_of("pod:\n  routes: []\n"),
        {"t.yaml", 1, 1, "pod",
         "unknown key 'pod' in a template; expected one of: name, description, "
         "include, parameters, allocate, vars, assert, host, container, shared, ipam, result"});
}

TEST_CASE("expression errors at load: syntax and unknown functions") {
  check(error_of("vars:\n  a: \"x${ params.a | nope }\"\n"),
        {"t.yaml", 2, 6, "vars.a",
         "in \"x${ params.a | nope }\": unknown function 'nope'; the functions are: address, contains, default, "
         "ends_with, family, first, hash, host, host_addresses, host_default_interface, host_link, host_source_toward, host_supports_link, host_sysctl, ipv4, ipv6, "
         "is_default, items, join, last, length, lower, map, network, non_default, on_interface, prefix_len, replace, "
         "starts_with, upper, where"});
  check(
      error_of("host:\n  routes:\n    - {loop: 'a ||', dst: x}\n"),
      {"t.yaml", 3, 14, "host.routes[0].loop", "in \"a ||\": expected a function name after '|', found '|'"});
  check(error_of("host:\n  rules:\n    - {when: '1 < params.a < 3', priority: 1, table: 5}\n"),
        {"t.yaml", 3, 14, "host.rules[0].when",
         "in \"1 < params.a < 3\": expected no second comparison (use 'and'), found '<'"});
  check(error_of("host:\n  rules:\n    - {priority: \"${ params.a - }\", table: 5}\n"),
        {"t.yaml", 3, 18, "host.rules[0].priority",
         "in \"${ params.a - }\": expected a value (a name, string, integer, list or '('), found the end of "
         "the expression"});
  check(error_of("vars:\n  a: \"${ prev.ips | where }\"\n"),
        {"t.yaml", 2, 6, "vars.a",
         "in \"${ prev.ips | where }\": where takes 2 to 3 argument(s) (the piped value counts as the "
         "first), found 1"});
  check(error_of("host:\n  sysctls:\n    - {name: \"${ 'x' \", value: 1}\n"),
        {"t.yaml", 3, 14, "host.sysctls[0].name", "in \"${ 'x' \": '${' without a closing '}'"});
}

TEST_CASE("parameter declaration errors") {
  check(error_of("parameters:\n  a: {type: strng}\n"),
        {"t.yaml", 2, 13, "parameters.a.type",
         "unknown type 'strng'; expected one of string, bool, int, ip, cidr, ifname, list, cidrs, object, mac"});
  check(error_of("parameters:\n  a: {required: true}\n"),
        {"t.yaml", 2, 6, "parameters.a.type", "a parameter declaration needs the key 'type'"});
  check(error_of("parameters:\n  a: {type: int, default: x}\n"),
        {"t.yaml", 2, 27, "parameters.a.default", "not a valid int: expected an int, found 'x' (string)"});
  check(error_of("parameters:\n  a: {type: int, default: 0, min: 1}\n"),
        {"t.yaml", 2, 27, "parameters.a.default", "not a valid int: 0 is below the minimum 1"});
  check(error_of("parameters:\n  a: {type: ifname, required: true, default: eth0}\n"),
        {"t.yaml", 2, 46, "parameters.a.default", "a required parameter cannot have a default"});
  check(error_of("parameters:\n  a: {type: string, min: 1}\n"),
        {"t.yaml", 2, 6, "parameters.a", "min and max apply to int parameters only"});
  check(error_of("parameters:\n  a-b: {type: string}\n"),
        {"t.yaml", 2, 3, "parameters.a-b",
         "a parameter name must be letters, digits and '_' (it is used as params.NAME)"});
}

TEST_CASE("parameter values: path config.<key> in <network config>") {
  const char* yaml = R"(
parameters:
  dev: {type: ifname, required: true}
  prio: {type: int, default: 5, min: 1, max: 32765}
  masq: {type: bool, default: false}
  net: {type: cidr, default: 10.0.0.0/8}
  gw: {type: ip, default: 10.0.0.1}
  nets: {type: cidrs, default: []}
)";
  check(error_of(yaml),
        {"<network config>", 0, 0, "config.dev", "the template needs the parameter 'dev' (ifname)"});
  check(error_of(yaml, {{"dev", "a-very-long-interface"}}),
        {"<network config>", 0, 0, "config.dev",
         "parameter 'dev' (ifname): 'a-very-long-interface' is 21 characters long; interface names have at "
         "most 15"});
  check(error_of(yaml, {{"dev", "a/b"}}), {"<network config>", 0, 0, "config.dev",
                                           "parameter 'dev' (ifname): 'a/b' contains '/'; interface names "
                                           "here are letters, digits, '_', '-' and '.'"});
  // Issue 12: each of these reached the kernel or nft (codes 102, 110, 100) instead of being a config error.
  check(error_of(yaml, {{"dev", std::string("uplink0\0x", 9)}}),
        {"<network config>", 0, 0, "config.dev",
         "parameter 'dev' (ifname): 'uplink0\\x00x' contains byte 0x00; interface names here are letters, "
         "digits, '_', '-' and '.'"});
  check(error_of(yaml, {{"dev", "ve\"th0"}}),
        {"<network config>", 0, 0, "config.dev",
         "parameter 'dev' (ifname): 've\"th0' contains '\"'; interface names here are letters, digits, '_', "
         "'-' and '.'"});
  check(error_of(yaml, {{"dev", "veth%d"}}),
        {"<network config>", 0, 0, "config.dev",
         "parameter 'dev' (ifname): 'veth%d' contains '%'; interface names here are letters, digits, '_', "
         "'-' and '.'"});
  check(error_of(yaml, {{"dev", "lo"}}),
        {"<network config>", 0, 0, "config.dev",
         "parameter 'dev' (ifname): 'lo' is the loopback device, not an interface for this parameter"});
  check(error_of(yaml, {{"dev", ".."}}), {"<network config>", 0, 0, "config.dev",
                                          "parameter 'dev' (ifname): '..' is not a legal interface name"});
  check(
      error_of(yaml, {{"dev", "eth0"}, {"prio", 40000}}),
      {"<network config>", 0, 0, "config.prio", "parameter 'prio' (int): 40000 is above the maximum 32765"});
  check(error_of(yaml, {{"dev", "eth0"}, {"prio", "5"}}),
        {"<network config>", 0, 0, "config.prio",
         "parameter 'prio' (int): expected an int, found '5' (string)"});
  check(error_of(yaml, {{"dev", "eth0"}, {"masq", "yes"}}),
        {"<network config>", 0, 0, "config.masq",
         "parameter 'masq' (bool): expected true or false, found 'yes' (string)"});
  check(error_of(yaml, {{"dev", "eth0"}, {"net", "10.0.0.0/33"}}),
        {"<network config>", 0, 0, "config.net",
         "parameter 'net' (cidr): expected a CIDR such as 10.0.0.0/24, found '10.0.0.0/33' (string)"});
  check(error_of(yaml, {{"dev", "eth0"}, {"gw", "10.0.0.1/8"}}),
        {"<network config>", 0, 0, "config.gw",
         "parameter 'gw' (ip): expected an IP address, found '10.0.0.1/8' (string)"});
  check(error_of(yaml, {{"dev", "eth0"}, {"nets", {"10.0.0.0/8", "x"}}}),
        {"<network config>", 0, 0, "config.nets",
         "parameter 'nets' (cidrs): item 1: expected a CIDR, found 'x' (string)"});
  // CNI's own keys (and unknown ones) are not parameters and are ignored.
  CHECK(error_of(
            yaml,
            {{"dev", "eth0"}, {"cniVersion", "1.0.0"}, {"type", "topocni"}, {"prevResult", {}}, {"typo", 1}})
            .file.empty());
}

TEST_CASE("config keys within a typo of a parameter are errors; other unknown keys are not") {
  const char* yaml = R"(
parameters:
  hostInterface: {type: ifname, default: eth0}
  ipMasq: {type: bool, default: false}
  mtu: {type: int}
)";
  check(error_of(yaml, {{"hostInterfce", "eth1"}}),
        {"<network config>", 0, 0, "config.hostInterfce",
         "unknown key 'hostInterfce'; did you mean the parameter 'hostInterface'?"});
  check(error_of(yaml, {{"ipmasq", true}}),  // case only
        {"<network config>", 0, 0, "config.ipmasq",
         "unknown key 'ipmasq'; did you mean the parameter 'ipMasq'?"});
  check(error_of(yaml, {{"ipMsaq", true}}),  // two neighbours swapped: one edit
        {"<network config>", 0, 0, "config.ipMsaq",
         "unknown key 'ipMsaq'; did you mean the parameter 'ipMasq'?"});
  check(error_of(yaml, {{"mtus", 1400}}),
        {"<network config>", 0, 0, "config.mtus", "unknown key 'mtus'; did you mean the parameter 'mtu'?"});
  // Short names allow one edit only; CNI's own keys are never typos; far-off keys are runtime keys.
  CHECK(error_of(yaml, {{"mac", "x"}, {"name", "net"}, {"type", "veth-to-host"}, {"kubernetes", 1},
                        {"hostInterface", "eth0"}, {"ipMasq", true}, {"mtu", 1400}})
            .file.empty());
}

TEST_CASE("typo_distance counts swaps as one edit and ignores case") {
  CHECK(tmpl::typo_distance("hostInterface", "hostInterface") == 0);
  CHECK(tmpl::typo_distance("HOSTinterface", "hostInterface") == 0);
  CHECK(tmpl::typo_distance("ab", "ba") == 1);
  CHECK(tmpl::typo_distance("", "abc") == 3);
  CHECK(tmpl::typo_distance("kitten", "sitting") == 3);
  CHECK(tmpl::likely_typo_of("mtuu", {"mtu", "mtus"}) == "mtu");
  CHECK_FALSE(tmpl::likely_typo_of("mtu", {"mtus", "mtu"}));
}

TEST_CASE("reference errors at render") {
  check(error_of("host:\n  sysctls:\n    - {name: net.x, value: \"${ params.nope }\"}\n"),
        {"t.yaml", 3, 28, "host.sysctls[0].value",
         "in \"${ params.nope }\": params has no field 'nope' (it has: nothing)"});
  json prev = {{"ips", {{{"address", "10.0.0.2/24"}}, {{"address", "10.0.0.3/24"}}}}};
  check(error_of("host:\n  routes:\n    - dst: \"${ prev.ips[3].address }\"\n      dev: eth0\n", {}, prev),
        {"t.yaml", 3, 12, "host.routes[0].dst",
         "in \"${ prev.ips[3].address }\": prev.ips[3] does not exist: prev.ips has 2 item(s)"});
  check(error_of("vars:\n  a: ${ vars.b }\n  b: 1\n"),
        {"t.yaml", 2, 6, "vars.a", "in \"${ vars.b }\": vars has no field 'b' (it has: nothing)"});
  check(
      error_of("vars:\n  a: ${ item }\n"),
      {"t.yaml", 2, 6, "vars.a", "in \"${ item }\": 'item' is only defined in a list item that has a loop:"});
  check(error_of("vars:\n  a: ${ 3 | address }\n"),
        {"t.yaml", 2, 6, "vars.a",
         "in \"${ 3 | address }\": address: expected an IP address or CIDR string (or an object with an "
         "address or "
         "dst field), found 3 (int)"});
  check(error_of("vars:\n  a: ${ cni.ifname + 1 }\n"),
        {"t.yaml", 2, 6, "vars.a",
         "in \"${ cni.ifname + 1 }\": '+' needs two ints, two strings or two lists, found 'eth0' (string) "
         "and 1 (int)"});
  check(error_of("host:\n  rules:\n    - {priority: \"${ 4611686018427387904 * (index * 2) }\", table: 5, "
                 "loop: [a, b]}\n"),
        {"t.yaml", 3, 18, "host.rules[0].priority",
         "in \"${ 4611686018427387904 * (index * 2) }\": 4611686018427387904 * 2 is out of range (ints are "
         "64-bit signed) (loop index 1, item \"b\")"});
  check(error_of("host:\n  routes:\n    - {when: \"cni.ifname > 3\", dst: 10.0.0.0/8, dev: eth0}\n"),
        {"t.yaml", 3, 14, "host.routes[0].when",
         "in \"cni.ifname > 3\": '>' compares two ints or two strings, found 'eth0' (string) and 3 (int)"});
  check(error_of("host:\n  routes:\n    - {loop: \"cni | where('x', 1)\", dst: x}\n"),
        {"t.yaml", 3, 14, "host.routes[0].loop",
         "in \"cni | where('x', 1)\": where: expected a list, found an object"});
  check(error_of("host:\n  routes:\n    - {loop: \"${ 3 }\", dst: x}\n"),
        {"t.yaml", 3, 14, "host.routes[0].loop", "expected a list to loop over, found 3 (int)"});
}

TEST_CASE("value errors after rendering") {
  json prev = {{"ips", {{{"address", "10.0.0.2/24"}}, {{"address", "10.0.0.3/24"}}}}};
  struct Case {
    const char* yaml;
    Where want;
  };
  const std::vector<Case> cases = {
      {"host:\n  routes:\n    - {dst: 10.0.0.0/33, dev: eth0}\n",
       {"t.yaml", 3, 13, "host.routes[0].dst",
        "expected a CIDR (\"10.0.0.0/24\", \"fd00::/64\") or an IP address, found '10.0.0.0/33' (string)"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.1/8, dev: eth0}\n",
       {"t.yaml", 3, 13, "host.routes[0].dst",
        "10.0.0.1/8 has host bits set; the kernel refuses it as a route destination (network() gives "
        "10.0.0.0/8)"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8, via: 'fd00::1'}\n",
       {"t.yaml", 3, 30, "host.routes[0].via", "gateway fd00::1 is ipv6 but dst 10.0.0.0/8 is ipv4"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8}\n",
       {"t.yaml", 3, 7, "host.routes[0].dev", "a unicast or local route needs a dev or a via"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8, dev: eth0, table: 0}\n",
       {"t.yaml", 3, 43, "host.routes[0].table",
        "expected a routing table: main, local or an int from 1 to 4294967295, found 0 (int)"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8, dev: eth0, scope: global}\n",
       {"t.yaml", 3, 43, "host.routes[0].scope",
        "expected one of universe, link, host, found 'global' (string)"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8, dev: eth0, metric: -1}\n",
       {"t.yaml", 3, 44, "host.routes[0].metric", "expected an int from 0 to 4294967295, found -1"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8, dev: \"${ cni.ifname }-with-a-long-suffix\"}\n",
       {"t.yaml", 3, 30, "host.routes[0].dev",
        "'eth0-with-a-long-suffix' is 23 characters long; interface names have at most 15"}},
      {"host:\n  routes:\n    - {dst: 10.0.0.0/8, type: blackhole, via: 10.0.0.1}\n",
       {"t.yaml", 3, 47, "host.routes[0].via",
        "a blackhole, unreachable, prohibit or throw route has no gateway"}},
      {"host:\n  rules:\n    - {priority: 1, from: 10.0.0.0/8, family: ipv6, table: 5}\n",
       {"t.yaml", 3, 27, "host.rules[0].from", "10.0.0.0/8 is ipv4 but the rule is ipv6"}},
      {"host:\n  rules:\n    - {priority: 1, fwmark: 0x10/, table: 5}\n",
       {"t.yaml", 3, 29, "host.rules[0].fwmark",
        "expected a mark as an int or \"mark/mask\" (e.g. \"0x10/0xff\"), found '0x10/' (string)"}},
      {"host:\n  rules:\n    - {priority: 1, table: lookup}\n",
       {"t.yaml", 3, 28, "host.rules[0].table",
        "expected a routing table: main, local or an int from 1 to 4294967295, found 'lookup' (string)"}},
      {"host:\n  nat:\n    - {action: snat, oif: eth0}\n",
       {"t.yaml", 3, 16, "host.nat[0].action", "snat and dnat need 'to' (the address to translate to)"}},
      {"host:\n  nat:\n    - {action: masquerade, to: 10.0.0.1}\n",
       {"t.yaml", 3, 32, "host.nat[0].to",
        "masquerade takes its address from the outgoing interface; 'to' is for snat and dnat"}},
      {"host:\n  nat:\n    - {action: dnat, daddr: 10.0.0.1, to: 'fd00::1'}\n",
       {"t.yaml", 3, 43, "host.nat[0].to", "fd00::1 is ipv6 but the rule is ipv4"}},
      {"host:\n  nat:\n    - {action: masquerade, saddr: {not: nope}}\n",
       {"t.yaml", 3, 35, "host.nat[0].saddr",
        "expected a CIDR or an IP address, or {not: CIDR}, found 'nope' (string)"}},
      {"host:\n  sysctls:\n    - {name: kernel.panic, value: 1}\n",
       {"t.yaml", 3, 14, "host.sysctls[0].name",
        "'kernel.panic' is not a net.* sysctl name (dotted, e.g. net.ipv4.conf.eth0.forwarding)"}},
      {"host:\n  links:\n    - {name: a}\n",
       {"t.yaml", 3, 7, "host.links[0].peer",
        "a veth link needs a peer: {name: ..., scope: host|container}"}},
      {"host:\n  links:\n    - {name: a, kind: existing, up: false}\n",
       {"t.yaml", 3, 37, "host.links[0].up",
        "'up' cannot be set on a link of kind existing: only mtu, mac, master, promisc and allmulti can (DEL puts "
        "them back)"}},
      {"host:\n  links:\n    - {name: a, peer: {name: b, scope: pod}}\n",
       {"t.yaml", 3, 40, "host.links[0].peer.scope",
        "expected one of host, container, found 'pod' (string)"}},
      {"host:\n  addresses:\n    - {dev: eth0, address: 10.0.0.1/8, nodad: true}\n",
       {"t.yaml", 3, 47, "host.addresses[0].nodad", "nodad applies to IPv6 addresses only"}},
      // In a loop, the message says which iteration failed.
      {"host:\n  routes:\n    - loop: prev.ips\n      dst: \"${ item.address }\"\n      dev: eth0\n",
       {"t.yaml", 4, 12, "host.routes[0].dst",
        "10.0.0.2/24 has host bits set; the kernel refuses it as a route destination (network() gives "
        "10.0.0.0/24) (loop index 0, item "
        "{\"address\":\"10.0.0.2/24\",\"family\":4,\"gateway\":null,\"interface\":null})"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.yaml);
    check(error_of(c.yaml, {}, prev), c.want);
  }
}

// A required key whose value is null passes check_map (the key is there) and must still fail, at the key,
// when the kind reads it: fuzz_template found `links: [{name: }]` read as a name that was never set.
TEST_CASE("a required key that is null, literally or rendered, is an error at its path") {
  // An optional parameter without a default renders to null.
  const std::string declared = "parameters:\n  unset: {type: string}\n";
  const char* kNull = "is required, but its value is null";
  struct Case {
    std::string yaml, path;
    std::string message = "";  // empty for kNull
  };
  const std::vector<Case> cases = {
      {"host:\n  links:\n    - {name: }\n", "host.links[0].name"},
      {"host:\n  links:\n    - {name: '${ params.unset }'}\n", "host.links[0].name"},
      {"host:\n  links:\n    - {name: v0, peer: {name: }}\n", "host.links[0].peer.name"},
      {"host:\n  links:\n    - {name: m0, kind: macvlan, parent: {name: }}\n", "host.links[0].parent.name"},
      {"host:\n  links:\n    - {name: v0, kind: vlan, parent: {name: eth0}, id: '${ params.unset }'}\n",
       "host.links[0].id", "a vlan link needs an id (0 to 4094)"},
      {"container:\n  links:\n    - {name: d0, kind: host-device, device: '${ params.unset }'}\n",
       "container.links[0].device", "a host-device link needs the node device to move: device: <name>"},
      {"host:\n  addresses:\n    - {dev: , address: 10.0.0.1/24}\n", "host.addresses[0].dev"},
      {"host:\n  addresses:\n    - {dev: eth0, address: }\n", "host.addresses[0].address"},
      {"host:\n  routes:\n    - {dst: , dev: eth0}\n", "host.routes[0].dst"},
      {"host:\n  neighbours:\n    - {dev: eth0, address: , lladdr: '02:00:00:00:00:01'}\n",
       "host.neighbours[0].address"},
      // Where a kind checks the key itself (a neighbour's lladdr and a rule's table unless `state: absent`,
      // a vlan's id, a host-device's device), its own message says so.
      {"host:\n  neighbours:\n    - {dev: eth0, address: 10.0.0.1, lladdr: }\n", "host.neighbours[0].lladdr",
       "a neighbour needs the key 'lladdr' (unless it has state: absent)"},
      {"host:\n  rules:\n    - {priority: , table: 100}\n", "host.rules[0].priority"},
      {"host:\n  rules:\n    - {priority: 100, table: }\n", "host.rules[0].table",
       "a rule needs the key 'table' (unless it has state: absent)"},
      {"host:\n  sysctls:\n    - {name: , value: 1}\n", "host.sysctls[0].name"},
  };
  for (const auto& [yaml, path, message] : cases) {
    CAPTURE(yaml);
    Where got = error_of(declared + yaml);
    CHECK(got.file == "t.yaml");
    CHECK(got.line == 5);
    CHECK(got.path == path);
    CHECK(got.message == (message.empty() ? kNull : message));
  }
}

TEST_CASE("allocation errors") {
  check(error_of("allocate:\n  t: {kind: table, range: [200, 300]}\n"),
        {"t.yaml", 2, 27, "allocate.t.range",
         "the range must not contain the reserved tables 253 (default), 254 (main), 255 (local)"});
  check(error_of("allocate:\n  t: {kind: mark, range: [1, 2]}\n"),
        {"t.yaml", 2, 13, "allocate.t.kind",
         "expected kind: table (the only kind so far), found the scalar 'mark'"});
  check(error_of("allocate:\n  t: {kind: table, range: [5]}\n"),
        {"t.yaml", 2, 27, "allocate.t.range", "expected [low, high] (two ints), found a list"});
  check(error_of("allocate:\n  t: {kind: table, range: [1, 2], scope: pod}\n"),
        {"t.yaml", 2, 42, "allocate.t.scope", "expected node or container, found 'pod'"});
  check(error_of("allocate:\n  t: {kind: table, range: [1, 2], pick: [lowest]}\n"),
        {"t.yaml", 2, 41, "allocate.t.pick", "expected spread or lowest, found a list"});
  check(error_of("allocate:\n  t: {kind: table, range: [1, 2], for: 'prev.ips |'}\n"),
        {"t.yaml", 2, 40, "allocate.t.for",
         "in \"prev.ips |\": expected a function name after '|', found the end of the expression"});
  check(error_of("allocate:\n  t: {kind: table, range: [1, 2], for: params}\n"),
        {"t.yaml", 2, 40, "allocate.t.for", "expected a list (one table per item), found an object"});
  Template t = Template::load({"t", "t.yaml", "allocate:\n  t: {kind: table, range: [1000, 2000]}\n"});
  CHECK_THROWS_WITH_AS(t.render({}),
                       "t.yaml:2:3: allocate.t: this template allocates a table but no allocator was given",
                       SpecError);
}

TEST_CASE("a SpecError's what() is file:line:column: path: message") {
  try {
    Template::load({"t", "dir/t.yaml", "host:\n  routes:\n    - {dts: x}\n"});
    FAIL("no error");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()).rfind("dir/t.yaml:3:8: host.routes[0].dts: unknown key 'dts' in a route",
                                      0) == 0);
  }
}

namespace {
// A provider that implements only addresses(): the other lookups keep HostFacts' refusing defaults, as a
// provider that cannot read routes does.
class AddressesOnlyFacts : public HostFacts {
 public:
  std::vector<std::string> addresses(const std::string& ifname) override {
    throw ConflictError("host interface '" + ifname + "' does not exist");
  }
};

// Renders with `facts`; returns the error's type and where it was.
std::pair<std::string, Where> fact_error_of(const std::string& yaml, HostFacts& facts) {
  test::FakeAllocator alloc;
  try {
    Template::load({"t", "t.yaml", yaml}).render({json::object(), {{"ifname", "eth0"}}, nullptr, &facts, &alloc});
  } catch (const HostFactError& e) {
    return {"HostFactError", {e.file, e.line, e.column, e.path, e.message}};
  } catch (const SpecError& e) {
    return {"SpecError", {e.file, e.line, e.column, e.path, e.message}};
  } catch (const ConflictError& e) {
    return {"ConflictError", {"", 0, 0, "", e.what()}};
  }
  return {"none", {}};
}
}  // namespace

TEST_CASE("a host fact lookup that fails is a HostFactError at the scalar that asked") {
  AddressesOnlyFacts facts;
  auto [type, where] = fact_error_of("vars:\n  dev: \"${ host_default_interface(4) }\"\n", facts);
  CHECK(type == "HostFactError");
  check(where, {"t.yaml", 2, 8, "vars.dev",
                "in \"${ host_default_interface(4) }\": this host facts provider cannot look up the ipv4 default "
                "route"});

  std::tie(type, where) =
      fact_error_of("host:\n  routes:\n    - {when: \"host_source_toward('fd00::1') != null\", dst: x}\n", facts);
  CHECK(type == "HostFactError");
  check(where, {"t.yaml", 3, 14, "host.routes[0].when",
                "in \"host_source_toward('fd00::1') != null\": this host facts provider cannot look up the source "
                "address toward fd00::1"});

  // In a loop the item is added to the message and the type is kept: the plugin maps it to CNI code 101.
  std::tie(type, where) = fact_error_of(
      "host:\n  sysctls:\n    - {loop: [up9], name: \"net.x.${ item | host_addresses | first }\", value: 1}\n",
      facts);
  CHECK(type == "HostFactError");
  check(where, {"t.yaml", 3, 27, "host.sysctls[0].name",
                "in \"net.x.${ item | host_addresses | first }\": host interface 'up9' does not exist (loop index "
                "0, item \"up9\")"});
}

TEST_CASE("a HostFactError's what() is file:line:column: path: message, and it is a SpecError") {
  AddressesOnlyFacts facts;
  test::FakeAllocator alloc;
  Template t = Template::load({"t", "dir/t.yaml", "vars:\n  a: ${ 'up0' | host_addresses }\n"});
  CHECK_THROWS_WITH_AS(t.render({json::object(), json::object(), nullptr, &facts, &alloc}),
                       "dir/t.yaml:2:6: vars.a: in \"${ 'up0' | host_addresses }\": host interface 'up0' does not "
                       "exist",
                       SpecError);
}
