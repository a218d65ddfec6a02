// The expression language: parsing, evaluation and every function, table-driven.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "template/expression.h"
#include "template/functions.h"
#include "template_fakes.h"

using nlohmann::json;
using namespace topo::tmpl;

namespace {

json roots() {
  return {
      {"params",
       {{"ifname", "eth0"},
        {"n", 3},
        {"on", true},
        {"off", false},
        {"none", nullptr},
        {"list", {"a", "b", "c"}}}},
      {"prev",
       {{"ips",
         {{{"address", "10.10.20.50/24"}, {"family", 4}},
          {{"address", "fd00::5/64"}, {"family", 6}, {"interface", "eth0"}}}},
        {"routes",
         {{{"dst", "0.0.0.0/0"}, {"gw", "10.10.20.1"}},
          {{"dst", "10.96.0.0/12"}, {"gw", nullptr}},
          {{"dst", "::/0"}, {"gw", nullptr}}}}}},
      {"vars", {{"x", "X"}}},
      {"cni", {{"attachment", "abc"}}},
      {"alloc", {{"table", 10007}}}};
}

json eval(const std::string& text) {
  json r = roots();
  topo::test::FakeFacts facts;
  facts.addrs["eth0"] = {"192.168.1.10/24", "fe80::1/64", "2001:db8::10/64"};
  facts.sources["192.168.1.254"] = "192.168.1.10";
  facts.sources["2001:db8::fe"] = "2001:db8::10";
  facts.defaults[topo::Family::V4] = "eth0";
  facts.links["eth0"] = {{"name", "eth0"}, {"kind", "veth"}, {"mtu", 1450}, {"mac", "02:00:00:00:00:01"}, {"up", true}};
  facts.sysctls["net.ipv6.conf.all.disable_ipv6"] = "1";
  facts.kinds = {"veth", "bridge"};
  EvalEnv env{r, &facts};
  return evaluate(*parse_expression(text), env);
}

std::string eval_error(const std::string& text) {
  try {
    eval(text);
  } catch (const ExprError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("expressions evaluate") {
  struct Case {
    const char* expr;
    json want;
  };
  const std::vector<Case> cases = {
      // literals
      {"'single'", "single"},
      {"\"double\"", "double"},
      {"'it\\'s'", "it's"},
      {"42", 42},
      {"-1", -1},
      {"true", true},
      {"false", false},
      {"null", nullptr},
      {"[1, 'a', [true]]", json::array({1, "a", json::array({true})})},
      {"[]", json::array()},
      // paths
      {"params.ifname", "eth0"},
      {"params.list[1]", "b"},
      {"params['ifname']", "eth0"},
      {"prev.ips[0].address", "10.10.20.50/24"},
      {"prev.ips[1].family", 6},
      {"params[\"list\"][0]", "a"},
      // logic, comparison, precedence
      {"params.on and params.off", false},
      {"params.on or params.off", true},
      {"not params.off", true},
      {"not not params.on", true},
      {"params.n == 3", true},
      {"params.n != 3", false},
      {"params.ifname == 'eth0' and params.n == 3", true},
      {"not params.n == 4", true},                        // not binds looser than ==
      {"params.off or params.on and params.off", false},  // and binds tighter than or
      {"(params.off or params.on) and params.on", true},
      {"params.none == null", true},
      {"params.off and params.none.x", false},  // short-circuit: the right side is never read
      // default's fallback is evaluated only when the input is null (the fallback here would be an error)
      {"params.ifname | default(params.none.x)", "eth0"},
      {"params.none | default(params.ifname)", "eth0"},
      // pipes and calls are the same
      {"params.list | join('-')", "a-b-c"},
      {"join(params.list, '-')", "a-b-c"},
      {"params.list | first | upper", "A"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.expr);
    CHECK(eval(c.expr) == c.want);
  }
}

TEST_CASE("arithmetic and ordering comparisons") {
  struct Case {
    const char* expr;
    json want;
  };
  const std::vector<Case> cases = {
      // ints
      {"1 + 2", 3},
      {"params.n - 1", 2},
      {"params.n * 4", 12},
      {"10 - 2 - 3", 5},  // left-associative
      {"1 + 2 * 3", 7},   // * binds tighter than + and -
      {"(1 + 2) * 3", 9},
      {"2 * 3 - 4 * 5", -14},
      {"alloc.table - 10000", 7},
      {"9223372036854775807 - 1", 9223372036854775806},
      {"-9223372036854775807 - 1", INT64_MIN},
      // a '-' after an operand is subtraction; at the start of an operand, before a digit, a sign
      {"params.n-1", 2},
      {"params.n -1", 2},
      {"(params.n)-1", 2},
      {"params.list[2-1]", "b"},
      {"params.n - -1", 4},
      {"params.n*-1", -3},
      {"-1", -1},
      {"[1, -2]", json::array({1, -2})},
      {"params.n == -3", false},
      {"-3 + params.n", 0},
      {"not -1", false},
      {"[-1] | first", -1},
      // strings and lists
      {"'veth' + params.ifname", "vetheth0"},
      {"'a' + 'b' + 'c'", "abc"},
      {"params.list + ['d']", json::array({"a", "b", "c", "d"})},
      {"[] + []", json::array()},
      {"((prev.ips | ipv6) + (prev.ips | ipv4)) | address", json::array({"fd00::5", "10.10.20.50"})},
      // pipes bind tighter than arithmetic, arithmetic tighter than comparison
      {"params.list | length + 1", 4},
      {"params.list | length * 2 == 6", true},
      {"params.n + 1 == 4", true},
      {"params.n + 1 != 4", false},
      {"1 + 1 == 2 and 2 * 2 == 4", true},
      {"params.none | default(1) + 1", 2},
      {"join(['a', 'b'] + ['c'], '')", "abc"},
      // ordering: ints by value, strings byte by byte
      {"1 < 2", true},
      {"2 < 2", false},
      {"2 <= 2", true},
      {"3 > 2", true},
      {"2 > 3", false},
      {"2 >= 3", false},
      {"3 >= 3", true},
      {"-1 < 0", true},
      {"params.n > 2 and params.n < 4", true},
      {"not params.n < 4", false},  // not binds looser than <
      {"params.n + 1 > params.n", true},
      {"'a' < 'b'", true},
      {"'10' < '9'", true},  // strings compare as strings
      {"'eth0' >= 'eth0'", true},
      {"'' < 'a'", true},
      {"prev.ips | length >= 2", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.expr);
    CHECK(eval(c.expr) == c.want);
  }
}

TEST_CASE("arithmetic on ints from a config: unsigned JSON ints take part as ints") {
  json r = {{"params", {{"u", json::parse("4000000000")}, {"big", json::parse("18446744073709551615")}}}};
  EvalEnv env{r, nullptr};
  CHECK(evaluate(*parse_expression("params.u + 1"), env) == 4000000001);
  CHECK(evaluate(*parse_expression("params.u - 1 == 3999999999"), env) == true);
  CHECK(evaluate(*parse_expression("params.u > 3"), env) == true);
  CHECK_THROWS_WITH_AS(evaluate(*parse_expression("params.big + 1"), env),
                       "18446744073709551615 is too large for '+' (ints are 64-bit signed)", ExprError);
  CHECK_THROWS_WITH_AS(evaluate(*parse_expression("params.big > 1"), env),
                       "18446744073709551615 is too large for '>' (ints are 64-bit signed)", ExprError);
}

TEST_CASE("arithmetic and ordering errors name both operands") {
  const char* add = "'+' needs two ints, two strings or two lists, found ";
  CHECK(eval_error("params.ifname + 1") == std::string(add) + "'eth0' (string) and 1 (int)");
  CHECK(eval_error("params.list + 'd'") == std::string(add) + "a list of 3 and 'd' (string)");
  CHECK(eval_error("params.none + 1") == std::string(add) + "null and 1 (int)");
  CHECK(eval_error("params.on + 1") == std::string(add) + "true (bool) and 1 (int)");
  CHECK(eval_error("'a' - 'b'") == "'-' needs two ints, found 'a' (string) and 'b' (string)");
  CHECK(eval_error("params.list * 2") == "'*' needs two ints, found a list of 3 and 2 (int)");
  const char* range = " is out of range (ints are 64-bit signed)";
  CHECK(eval_error("9223372036854775807 + 1") == "9223372036854775807 + 1" + std::string(range));
  CHECK(eval_error("-9223372036854775807 - 2") == "-9223372036854775807 - 2" + std::string(range));
  CHECK(eval_error("4294967296 * 4294967296") == "4294967296 * 4294967296" + std::string(range));
  const char* cmp = " compares two ints or two strings, found ";
  CHECK(eval_error("params.n < '4'") == "'<'" + std::string(cmp) + "3 (int) and '4' (string)");
  CHECK(eval_error("params.none >= 0") == "'>='" + std::string(cmp) + "null and 0 (int)");
  CHECK(eval_error("params.list > []") == "'>'" + std::string(cmp) + "a list of 3 and a list of 0");
  CHECK(eval_error("true <= false") == "'<='" + std::string(cmp) + "true (bool) and false (bool)");
  // The error is the operator's, not a function's, and points at the start of the operation.
  try {
    eval("params.n + (params.ifname - 1)");
    FAIL("no error");
  } catch (const ExprError& e) {
    CHECK(e.offset == 12);
  }
}

TEST_CASE("syntax errors name what was expected and what was found") {
  struct Case {
    const char* expr;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"", "expected a value (a name, string, integer, list or '('), found the end of the expression"},
      {"params.", "expected a field name after '.', found the end of the expression"},
      {"params.x ==",
       "expected a value (a name, string, integer, list or '('), found the end of the expression"},
      {"(true", "expected ')', found the end of the expression"},
      {"[1, 2", "expected ']', found the end of the expression"},
      {"'open", "unterminated string"},
      {"a b", "expected an operator or the end of the expression, found 'b'"},
      {"1 == 1 == 1", "expected no second comparison (use 'and'), found '=='"},
      {"x | 3", "expected a function name after '|', found '3'"},
      {"x ; y", "unexpected character ';'"},
      {"1 < 2 < 3", "expected no second comparison (use 'and'), found '<'"},
      {"a == b >= c", "expected no second comparison (use 'and'), found '>='"},
      {"a <= b != c", "expected no second comparison (use 'and'), found '!='"},
      {"a +", "expected a value (a name, string, integer, list or '('), found the end of the expression"},
      {"a * * b", "expected a value (a name, string, integer, list or '('), found '*'"},
      {"- params.n", "expected a value (a name, string, integer, list or '('), found '-'"},
      {"-params.n", "expected a value (a name, string, integer, list or '('), found '-'"},
      {"a =< b", "unexpected character '='"},
      {"a => b", "unexpected character '='"},
      {"a ! b", "unexpected character '!'"},
      {"1 - 1 2", "expected an operator or the end of the expression, found '2'"},
      {"x | where", "where takes 2 to 3 argument(s) (the piped value counts as the first), found 1"},
      {"x | where('a', 1, 2)",
       "where takes 2 to 3 argument(s) (the piped value counts as the first), found 4"},
      {"and", "expected a value, found 'and'"},
      {"nope(1)", "unknown function 'nope'; the functions are: address, contains, default, ends_with, family"},
      {"x | hash", "hash takes 2 argument(s) (the piped value counts as the first), found 1"},
      {"first(x, y)", "first takes 1 argument(s)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.expr);
    std::string got;
    try {
      parse_expression(c.expr);
    } catch (const ExprError& e) {
      got = e.what();
    }
    CHECK(got.find(c.message) == 0);
  }
}

TEST_CASE("evaluation errors name the path") {
  CHECK(eval_error("params.nope") == "params has no field 'nope' (it has: ifname, list, n, none, off, on)");
  CHECK(eval_error("prev.ips[3]") == "prev.ips[3] does not exist: prev.ips has 2 item(s)");
  CHECK(eval_error("params.n.x") == "params.n is 3 (int), not an object: it has no field 'x'");
  CHECK(eval_error("params.ifname[0]") ==
        "params.ifname is 'eth0' (string), not a list: it cannot be indexed by 0");
  CHECK(eval_error("params.list[true]") ==
        "an index into params.list must be an int or a string, found true (bool)");
  CHECK(eval_error("item") == "'item' is only defined in a list item that has a loop:");
  CHECK(eval_error("env.HOME") ==
        "unknown name 'env'; an expression starts from params, cni, prev, vars, alloc, item, index or ipam");
}

TEST_CASE("functions") {
  struct Case {
    const char* expr;
    json want;
  };
  const std::vector<Case> cases = {
      {"'10.10.20.50/24' | address", "10.10.20.50"},
      {"'10.10.20.50' | address", "10.10.20.50"},
      {"prev.ips[0] | address", "10.10.20.50"},                         // objects by their address field
      {"prev.ips | address", json::array({"10.10.20.50", "fd00::5"})},  // lists element by element
      {"'10.10.20.50/24' | prefix_len", 24},
      {"'10.10.20.50' | prefix_len", 32},
      {"'10.10.20.50/24' | network", "10.10.20.0/24"},
      {"'fd00::5/64' | network", "fd00::/64"},
      {"'10.10.20.50/24' | host", "10.10.20.50/32"},
      {"'fd00::5' | host", "fd00::5/128"},
      {"'10.10.20.50/24' | family", 4},
      {"'fd00::5/64' | family", 6},
      {"prev.ips | ipv4 | length", 1},
      {"prev.ips | ipv6 | first | address", "fd00::5"},
      {"['10.0.0.1', 'fd00::1', '10.0.0.2/8'] | ipv4", json::array({"10.0.0.1", "10.0.0.2/8"})},
      {"prev.routes | ipv4 | map('dst')", json::array({"0.0.0.0/0", "10.96.0.0/12"})},
      {"params.list | first", "a"},
      {"params.list | last", "c"},
      {"[] | first", nullptr},
      {"[] | last", nullptr},
      {"params.list | length", 3},
      {"'abcd' | length", 4},
      {"prev | length", 2},
      {"[1, 'x'] | join(', ')", "1, x"},
      {"prev.ips | map('family')", json::array({4, 6})},
      // FNV-1a 64 of "" is the offset basis; of "a" is af63dc4c8601ec8c (published test vectors).
      {"'' | hash(16)", "cbf29ce484222325"},
      {"'a' | hash(16)", "af63dc4c8601ec8c"},
      {"'a' | hash(11)", "af63dc4c860"},
      {"params.none | default('x')", "x"},
      {"params.n | default(7)", 3},
      {"'0.0.0.0/0' | is_default", true},
      {"'::/0' | is_default", true},
      {"'default' | is_default", true},
      {"'10.0.0.0/8' | is_default", false},
      {"prev.routes | non_default | map('dst')", json::array({"10.96.0.0/12"})},
      {"['0.0.0.0/0', '10.1.0.0/16'] | non_default", json::array({"10.1.0.0/16"})},
      {"params.ifname | host_addresses", json::array({"192.168.1.10/24", "fe80::1/64", "2001:db8::10/64"})},
      {"host_addresses('eth0') | ipv4 | first | address", "192.168.1.10"},
      {"'192.168.1.254' | host_source_toward", "192.168.1.10"},
      {"'2001:db8::fe/64' | host_source_toward", "2001:db8::10"},
      {"host_source_toward('203.0.113.1')", nullptr},  // no route there
      {"host_default_interface(4)", "eth0"},
      {"host_default_interface(6)", nullptr},
      {"host_default_interface(4) | host_addresses | ipv4 | address | first", "192.168.1.10"},
      {"host_link(host_default_interface(4)).mtu", 1450},
      {"host_link('eth0').kind", "veth"},
      {"host_sysctl('net.ipv6.conf.all.disable_ipv6')", "1"},
      {"host_sysctl('net.ipv4.no_such_thing')", nullptr},
      {"host_supports_link('bridge')", true},
      {"host_supports_link('vrf')", false},
      {"'EtH0' | lower", "eth0"},
      {"'eth0' | upper", "ETH0"},
      {"['a', 'B'] | upper", json::array({"A", "B"})},
      {"prev.ips | where('family', 6) | address", json::array({"fd00::5"})},
      {"where(prev.ips, 'family', 4) | length", 1},
      {"prev.ips | where('family', '4')", json::array()},  // as ==: the string is not the int
      {"prev.routes | where('gw', null) | map('dst')", json::array({"10.96.0.0/12", "::/0"})},
      {"prev.routes | where('gw') | map('dst')", json::array({"0.0.0.0/0"})},  // the field is not null
      {"prev.ips | where('gw')", json::array()},                               // a missing field is null
      {"prev.ips | where('gw', null) | length", 2},
      {"[] | where('x', 1)", json::array()},
      // An address that names no interface belongs to every one.
      {"prev.ips | on_interface('eth0') | address", json::array({"10.10.20.50", "fd00::5"})},
      {"prev.ips | on_interface('net1') | address", json::array({"10.10.20.50"})},
      {"prev.ips | where('family', params.n + 1) | first | address", "10.10.20.50"},
      // An object as {key, value} pairs in key order, so that loop: can go over a config map.
      {"prev | items | map('key')", json::array({"ips", "routes"})},
      {"prev | items | map('value') | first | length", 2},
      {"params.none | items", json::array()},  // an optional map left out loops zero times
      {"'net.ipv4.conf.IFNAME.rp_filter' | starts_with('net.')", true},
      {"'kernel.panic' | starts_with('net.')", false},
      {"['net.a', 'vm.b'] | starts_with('net.')", json::array({true, false})},
      {"'net.ipv4.' | ends_with('.')", true},
      {"'net.ipv4' | ends_with('.')", false},
      {"'net..x' | contains('..')", true},
      {"'net.x' | contains('/')", false},
      {"'aXaXa' | replace('X', '-')", "a-a-a"},
      {"'aXaXa' | replace('X', '-', 1)", "a-aXa"},  // Go's strings.Replace(s, old, new, 1)
      {"'aXa' | replace('X', 'XX')", "aXXa"},      // what it put in is not replaced again
      {"['IFNAME.a', 'b'] | replace('IFNAME', 'eth0')", json::array({"eth0.a", "b"})},
  };
  for (const auto& c : cases) {
    CAPTURE(c.expr);
    CHECK(eval(c.expr) == c.want);
  }
  // Every function in the table has at least one case above.
  for (auto name : function_names()) {
    CAPTURE(name);
    bool used = false;
    for (const auto& c : cases)
      used = used || std::string(c.expr).find(std::string(name)) != std::string::npos;
    CHECK(used);
  }
}

TEST_CASE("functions reject wrong argument types") {
  CHECK(eval_error("3 | address") ==
        "address: expected an IP address or CIDR string (or an object with an address or dst field), found 3 "
        "(int)");
  CHECK(eval_error("'nope' | network") == "network: 'nope' is not an IP address or CIDR");
  CHECK(eval_error("'10.0.0.1' | ipv4") == "ipv4: expected a list, found '10.0.0.1' (string)");
  CHECK(eval_error("['x'] | ipv6") == "ipv6: 'x' is not an IP address or CIDR");
  CHECK(eval_error("'a' | first") == "first: expected a list, found 'a' (string)");
  CHECK(eval_error("3 | length") == "length: expected a list, object or string, found 3 (int)");
  CHECK(eval_error("[null] | join(',')") == "join: expected a list of strings or ints, found null");
  CHECK(eval_error("prev.ips | map('nope')") == "map: an element has no field 'nope'");
  CHECK(eval_error("params.ifname | where('a', 1)") == "where: expected a list, found 'eth0' (string)");
  CHECK(eval_error("[1] | where('a', 1)") == "where: expected a list of objects, found 1 (int)");
  CHECK(eval_error("prev.ips | where(4, 1)") == "where (field name): expected a string, found 4 (int)");
  CHECK(eval_error("'a' | hash(17)") == "hash (length): expected an int from 1 to 16, found 17 (int)");
  CHECK(eval_error("3 | hash(4)") == "hash: expected a string, found 3 (int)");
  CHECK(eval_error("3 | lower") == "lower: expected a string, found 3 (int)");
  CHECK(eval_error("[3] | non_default") ==
        "non_default: expected an IP address or CIDR string (or an object with an address or dst field), "
        "found 3 "
        "(int)");
  CHECK_THROWS_AS(eval("'eth9' | host_addresses"), topo::ConflictError);
  CHECK(eval_error("'eth0' | host_source_toward") == "host_source_toward: 'eth0' is not an IP address or CIDR");
  CHECK(eval_error("host_default_interface('inet')") ==
        "host_default_interface: expected the family, 4 or 6, found 'inet' (string)");
}

TEST_CASE("truthiness follows Ansible") {
  for (const char* falsy : {"null", "false", "0", "''", "[]", "params.none | default([])"}) {
    CAPTURE(falsy);
    CHECK_FALSE(truthy(eval(falsy)));
  }
  for (const char* t : {"true", "1", "'x'", "[0]", "prev"}) {
    CAPTURE(t);
    CHECK(truthy(eval(t)));
  }
}

TEST_CASE("interpolation: one expression keeps its type, anything else is a string") {
  json r = roots();
  EvalEnv env{r, nullptr};
  auto render = [&](const std::string& s) { return render_interpolation(parse_interpolation(s), env); };
  CHECK(render("${ params.n }") == 3);
  CHECK(render("${params.list}") == json::array({"a", "b", "c"}));
  CHECK(render("${ params.on }") == true);
  CHECK(render("${ params.none }") == nullptr);
  CHECK(render("${ prev.ips[0] }") == roots()["prev"]["ips"][0]);
  CHECK(render("n=${ params.n }") == "n=3");
  CHECK(render("${ params.n }${ params.n }") == "33");
  CHECK(render("${ params.on } ") == "true ");
  CHECK(render("veth${ vars.x }-${ 'a}b' }") == "vethX-a}b");  // a '}' inside a string does not close
  CHECK(render("plain") == "plain");
  CHECK(render("cost: $${ not an expression }") == "cost: ${ not an expression }");
  CHECK_THROWS_WITH_AS(
      render("x${ params.none }"),
      "cannot put null into a string; only strings, ints and bools can be (use default(...) for "
      "null, or join(...) for a list)",
      ExprError);
  CHECK_THROWS_WITH_AS(render("x${ params.list }"), doctest::Contains("cannot put a list of 3 into a string"),
                       ExprError);
  CHECK_THROWS_WITH_AS(parse_interpolation("x${ params.n"), "'${' without a closing '}'", ExprError);
}
