// IPAM delegation and the declared result: the delegated-plugin runner (argument, environment, stdin,
// timeout and error handling, against tiny fake plugins this test writes), the `ipam` root, and a template's
// `result:` rendered and emitted in every CNI version.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "cni/cni.h"
#include "cni/ipam.h"
#include "template/prev.h"
#include "topo/attachment.h"
#include "topo/error.h"
#include "topo/template/template.h"

using namespace topo;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A temp dir holding fake plugins (shell scripts: the runner must exec them without a shell of its own).
struct FakeBin {
  fs::path dir;
  FakeBin() {
    char tmpl[] = "/tmp/topo-ipam-test.XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~FakeBin() { fs::remove_all(dir); }
  std::string add(const std::string& name, const std::string& body) {
    fs::path p = dir / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
};

int code_of(const std::function<void()>& f, std::string* msg = nullptr, std::string* details = nullptr) {
  try {
    f();
  } catch (const cni::Error& e) {
    if (msg) *msg = e.msg;
    if (details) *details = e.details;
    return e.code;
  }
  return 0;
}

json config_with(const json& ipam) {
  return {{"cniVersion", "1.0.0"}, {"name", "n"}, {"type", "topocni"}, {"ipam", ipam}};
}

Rendered render(const std::string& yaml, const RenderContext& ctx) {
  return Template::load({"t", "t.yaml", yaml}).render(ctx);
}

}  // namespace

TEST_CASE("ipam.type: a plugin name, else code 7 naming the key") {
  CHECK(cni::ipam_type(config_with({{"type", "host-local"}})) == "host-local");
  for (const json& bad :
       {json(nullptr), json("host-local"), json{{"dataDir", "x"}}, json{{"type", 7}}, json{{"type", ""}},
        json{{"type", "../host-local"}}, json{{"type", "/usr/lib/cni/host-local"}}, json{{"type", ".."}},
        json{{"type", "a..b"}}}) {
    std::string msg;
    json config =
        bad.is_null() ? json{{"cniVersion", "1.0.0"}, {"name", "n"}, {"type", "t"}} : config_with(bad);
    CHECK_MESSAGE(code_of([&] { cni::ipam_type(config); }, &msg) == cni::kInvalidConfig, bad.dump());
    CHECK_MESSAGE(msg.find("ipam.type") != std::string::npos, msg);
  }
}

TEST_CASE("the IPAM plugin is found in CNI_PATH, first directory first, executables only") {
  FakeBin a, b;
  b.add("ipam-x", "exit 0");
  std::string first = a.add("ipam-x", "exit 0");
  CHECK(cni::find_ipam_plugin("ipam-x", a.dir.string() + ":" + b.dir.string()) == first);
  std::ofstream(a.dir / "plain") << "not executable";
  fs::permissions(a.dir / "plain", fs::perms::owner_read);
  std::string msg, details;
  CHECK(code_of([&] { cni::find_ipam_plugin("plain", a.dir.string()); }, &msg, &details) ==
        cni::kInvalidConfig);
  CHECK(msg.find("ipam.type") != std::string::npos);
  CHECK(details.find(a.dir.string()) != std::string::npos);
  CHECK(code_of([&] { cni::find_ipam_plugin("ipam-x", ""); }, nullptr, &details) == cni::kInvalidConfig);
  CHECK(details == "CNI_PATH is empty");
}

TEST_CASE("a delegated plugin gets the environment given, its stdin, and no arguments") {
  FakeBin bin;
  std::string p = bin.add(
      "echoer",
      R"SH(printf '{"cmd":"%s","id":"%s","args":%d,"stdin":"%s"}' "$CNI_COMMAND" "$CNI_CONTAINERID" $# "$(cat)")SH");
  std::string out =
      cni::run_delegated(p, {"CNI_COMMAND=ADD", "CNI_CONTAINERID=c1", "PATH=/usr/bin:/bin"}, "hello", 5s);
  CHECK(json::parse(out) == json{{"cmd", "ADD"}, {"id", "c1"}, {"args", 0}, {"stdin", "hello"}});
}

TEST_CASE("delegated_environment passes ours through with CNI_COMMAND replaced") {
  ::setenv("CNI_COMMAND", "ADD", 1);
  ::setenv("CNI_CONTAINERID", "c9", 1);
  auto env = cni::delegated_environment("DEL");
  CHECK(std::count(env.begin(), env.end(), "CNI_COMMAND=DEL") == 1);
  CHECK(std::count(env.begin(), env.end(), "CNI_COMMAND=ADD") == 0);
  CHECK(std::count(env.begin(), env.end(), "CNI_CONTAINERID=c9") == 1);
  ::unsetenv("CNI_COMMAND");
  ::unsetenv("CNI_CONTAINERID");
}

TEST_CASE("a large stdin is written while stdout is read (no pipe deadlock)") {
  FakeBin bin;
  std::string p = bin.add("cat", "exec cat");
  std::string big(1 << 20, 'x');
  CHECK(cni::run_delegated(p, {"PATH=/usr/bin:/bin"}, big, 20s).size() == (1u << 20));
}

TEST_CASE("a plugin's CNI error comes back with its own code, msg and details") {
  FakeBin bin;
  std::string p = bin.add(
      "fails",
      R"(echo '{"cniVersion":"1.0.0","code":18,"msg":"no IP addresses available","details":"range 1"}'; exit 1)");
  std::string msg, details;
  CHECK(code_of([&] { cni::run_delegated(p, {}, "{}", 5s); }, &msg, &details) == 18);
  CHECK(msg == "no IP addresses available");
  CHECK(details == "range 1");
}

TEST_CASE("a plugin that fails without a CNI error, or crashes: 999 saying how it ended") {
  FakeBin bin;
  std::string msg, details;
  CHECK(code_of([&] { cni::run_delegated(bin.add("garbage", "echo oops; exit 3"), {}, "", 5s); }, &msg,
                &details) == 999);
  CHECK(msg.find("exited with status 3") != std::string::npos);
  CHECK(details == "stdout: oops\n");
  CHECK(code_of([&] { cni::run_delegated(bin.add("crash", "kill -9 $$"), {}, "", 5s); }, &msg) == 999);
  CHECK(msg.find("killed by signal 9") != std::string::npos);
}

TEST_CASE("a plugin past the timeout is killed and reaped, with a clear error") {
  FakeBin bin;
  std::string p = bin.add("sleeper", "exec sleep 30");
  auto start = std::chrono::steady_clock::now();
  std::string msg;
  CHECK(code_of([&] { cni::run_delegated(p, {"PATH=/usr/bin:/bin"}, "", 300ms); }, &msg) == 999);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(msg.find("did not finish within 0.3 s") != std::string::npos);
  // Reaped: no child of ours is left, not even a zombie.
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
}

TEST_CASE("run_ipam: ADD's result in the internal (1.x) form; DEL returns null") {
  FakeBin bin;
  bin.add("fake-ipam", R"(cat >/dev/null; if [ "$CNI_COMMAND" = ADD ]; then
echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/24","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.53"]}}'; fi)");
  json config = config_with({{"type", "fake-ipam"}});
  cni::Environment env;
  env.path = bin.dir.string();
  json r = cni::run_ipam("ADD", config, config.dump(), env, 5s);
  CHECK(r["ips"] == json::parse(R"([{"address":"10.1.0.5/24","gateway":"10.1.0.1"}])"));
  CHECK(r["dns"]["nameservers"][0] == "10.1.0.53");
  CHECK(cni::run_ipam("DEL", config, config.dump(), env, 5s).is_null());
  bin.add("bad-ipam", R"(echo '{"ips":[{"address":"nope"}]}')");
  std::string msg, details;
  CHECK(code_of(
            [&] {
              cni::run_ipam("ADD", config_with({{"type", "bad-ipam"}}), "{}", env, 5s);
            },
            &msg, &details) == 999);
  CHECK(msg.find("answered ADD with a malformed result") != std::string::npos);
  CHECK(details.find("ipam result.ips[0].address") != std::string::npos);
}

TEST_CASE("the ipam root: an IPAM result normalised like prev, with dns") {
  json n = tmpl::normalize_ipam(json::parse(R"({"cniVersion":"1.0.0",
    "ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":3},{"address":"fd00::5/64"}],
    "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{"nameservers":["10.1.0.53"]}})"));
  CHECK(n == json::parse(R"({
    "ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":null,"family":4},
           {"address":"fd00::5/64","gateway":null,"interface":null,"family":6}],
    "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{"nameservers":["10.1.0.53"]}})"));
  CHECK(tmpl::normalize_ipam(nullptr) == json::parse(R"({"ips":[],"routes":[],"dns":{}})"));
  CHECK_THROWS_WITH_AS(tmpl::normalize_ipam(json::parse(R"({"ips":[{"address":"x"}]})")),
                       doctest::Contains("ipam.ips[0].address"), SpecError);
  CHECK_THROWS_WITH_AS(tmpl::normalize_ipam(json::parse(R"({"dns":[]})")), doctest::Contains("ipam.dns"),
                       SpecError);
}

TEST_CASE("a template declaring ipam reads the ipam root, and needs one except on DEL") {
  const char* yaml = R"(
ipam: true
container:
  addresses:
    - {dev: eth0, address: "${ ipam.ips[0].address }"}
)";
  Template t = Template::load({"t", "t.yaml", yaml});
  CHECK(t.declares_ipam());
  CHECK_FALSE(t.declares_result());
  RenderContext ctx;
  ctx.cni = {{"command", "ADD"}};
  ctx.ipam = json::parse(R"({"ips":[{"address":"10.1.0.5/24"}]})");
  CHECK(t.render(ctx).state.of<Address>().at(0).local.str() == "10.1.0.5/24");
  ctx.ipam = nullptr;
  CHECK_THROWS_WITH_AS(t.render(ctx), doctest::Contains("ipam.type"), SpecError);
  ctx.cni["command"] = "DEL";  // renders (and then fails on the missing address, as any missing reference)
  CHECK_THROWS_WITH_AS(t.render(ctx), doctest::Contains("ipam.ips[0] does not exist"), SpecError);
  CHECK_FALSE(Template::load({"t", "t.yaml", "host: {}"}).declares_ipam());
  // Without `ipam: true` there is no such root (and nothing is normalised for it).
  CHECK_THROWS_WITH_AS(render("vars: {a: \"${ ipam.ips }\"}", ctx),
                       doctest::Contains("'ipam' is only defined in a template that declares `ipam: true`"),
                       SpecError);
  CHECK_THROWS_WITH_AS(Template::load({"t", "t.yaml", "ipam: yes please"}),
                       doctest::Contains("ipam: expected true or false"), SpecError);
}

namespace {

const char* kResultTemplate = R"(
ipam: true
result:
  interfaces:
    - {name: vh1, scope: host}
    - {name: "${ cni.ifname }"}
  ips:
    - loop: ipam.ips
      address: "${ item.address }"
      gateway: "${ item.gateway }"
      interface: "${ cni.ifname }"
  routes: "${ ipam.routes }"
  dns: "${ ipam.dns }"
)";

RenderContext result_ctx() {
  RenderContext ctx;
  ctx.cni = {{"command", "ADD"}, {"ifname", "eth0"}};
  ctx.ipam = json::parse(R"({"ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1"},{"address":"fd00::5/64"}],
    "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{"nameservers":["10.1.0.53"],"search":["a.test"]}})");
  return ctx;
}

}  // namespace

TEST_CASE("result: rendered with interface names, checked, only the declared keys") {
  Rendered r = render(kResultTemplate, result_ctx());
  CHECK(r.result == json::parse(R"({
    "interfaces":[{"name":"vh1","scope":"host"},{"name":"eth0","scope":"container"}],
    "ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":"eth0"},
           {"address":"fd00::5/64","gateway":null,"interface":"eth0"}],
    "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],
    "dns":{"nameservers":["10.1.0.53"],"search":["a.test"]}})"));
  CHECK(render("host: {}", {}).result.is_null());
  CHECK(render("result: {dns: {domain: x.test}}", {}).result ==
        json::parse(R"({"dns":{"domain":"x.test"}})"));
}

TEST_CASE("result: errors at the template's line and key") {
  auto err = [](const std::string& yaml) {
    try {
      RenderContext ctx;
      ctx.prev = json::parse(R"({"interfaces":[{"name":"eth0"}]})");
      render(yaml, ctx);
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err("result: {ips: [{address: 10.0.0.1}]}")
            .find("result.ips[0].address: expected an address with its prefix length") != std::string::npos);
  CHECK(err("result: {ips: [{address: 10.0.0.1/24, gateway: fd00::1}]}")
            .find("result.ips[0].gateway: must be of the address's family") != std::string::npos);
  CHECK(err("result: {ips: [{address: 10.0.0.1/24, interface: eth9}]}")
            .find("'eth9' is not an interface of the result (it has: eth0)") != std::string::npos);
  CHECK(err("result: {ips: [{address: 10.0.0.1/24, interface: eth0}]}") == "no error");  // prev's interfaces
  CHECK(err("result: {interfaces: [{name: a, scope: pod}]}").find("result.interfaces[0].scope") !=
        std::string::npos);
  CHECK(err("result: {routes: [{dst: 10.0.0.0/8, gw: 10.0.0.1/32}]}").find("result.routes[0].gw") !=
        std::string::npos);
  CHECK(err("result: {dns: {nameservers: 10.0.0.53}}")
            .find("result.dns.nameservers: expected a list of strings") != std::string::npos);
  CHECK(err("result: {routes: [{dst: 10.0.0.0/8, via: 10.0.0.1}]}").find("unknown key 'via'") !=
        std::string::npos);
  CHECK(err("result: {mtu: 1500}").find("unknown key 'mtu'") != std::string::npos);
  CHECK(err("result: {ips: \"${ 5 }\"}").find("result.ips: expected a list") != std::string::npos);
}

TEST_CASE("the declared result in every CNI version: declared keys replace prevResult's, the rest passes") {
  Rendered r = render(kResultTemplate, result_ctx());
  json declared = r.result;
  declared["interfaces"][0]["mac"] = "02:00:00:00:00:01";
  declared["interfaces"][1]["mac"] = "02:00:00:00:00:02";
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
    CAPTURE(v);
    json config = {{"cniVersion", v}, {"name", "n"}, {"type", "topocni"}};
    json out = cni::make_result(config, {{"vh1", "02:00:00:00:00:01", ""}}, declared, "/run/netns/p");
    CHECK(out["cniVersion"] == v);
    CHECK(out["interfaces"] == json::parse(R"([{"name":"vh1","mac":"02:00:00:00:00:01"},
      {"name":"eth0","mac":"02:00:00:00:00:02","sandbox":"/run/netns/p"}])"));
    json ips = json::parse(R"([{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":1},
                                 {"address":"fd00::5/64","interface":1}])");
    if (std::string(v).starts_with("0.")) {
      ips[0]["version"] = "4";
      ips[1]["version"] = "6";
    }
    CHECK(out["ips"] == ips);
    CHECK(out["routes"] == json::parse(R"([{"dst":"0.0.0.0/0","gw":"10.1.0.1"}])"));
    CHECK(out["dns"] == json::parse(R"({"nameservers":["10.1.0.53"],"search":["a.test"]})"));
  }
  // Chained: only `dns` declared; prevResult's interfaces, ips and routes pass through, the veth ends are not
  // added.
  json config = {{"cniVersion", "1.0.0"},
                 {"name", "n"},
                 {"type", "topocni"},
                 {"prevResult", json::parse(R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],
                   "ips":[{"address":"10.0.0.2/24","interface":0}],"routes":[{"dst":"10.9.0.0/16"}],"dns":{"domain":"old"}})")}};
  json out =
      cni::make_result(config, {{"vh1", "02:00:00:00:00:01", ""}}, json{{"dns", {{"domain", "new"}}}}, "/p");
  CHECK(out["interfaces"] == json::parse(R"([{"name":"eth0"}])"));
  CHECK(out["ips"] == json::parse(R"([{"address":"10.0.0.2/24","interface":0}])"));
  CHECK(out["routes"] == json::parse(R"([{"dst":"10.9.0.0/16"}])"));
  CHECK(out["dns"] == json{{"domain", "new"}});
  // No declaration: prevResult plus the host-side veth end, as before.
  CHECK(cni::make_result(config, {{"vh1", "02:00:00:00:00:01", ""}})["interfaces"].size() == 2);
}

TEST_CASE("Attachments::declarations loads the template without rendering it") {
  FakeBin dir;  // a template directory this time
  std::ofstream(dir.dir / "main-ipam.yaml") << "ipam: true\nresult: {dns: {domain: x.test}}\n";
  std::ofstream(dir.dir / "plain.yaml") << "host: {}\n";
  Options options;
  options.template_dirs = {dir.dir.string()};
  Attachments attachments(options);
  Request req;
  req.template_name = "main-ipam";
  Declarations d = attachments.declarations(req);
  CHECK(d.ipam);
  CHECK(d.result);
  req.template_name = "plain";
  d = attachments.declarations(req);
  CHECK_FALSE(d.ipam);
  CHECK_FALSE(d.result);
  req.template_name = "veth-to-host";  // the flagship (built in): a chained plugin, as before
  d = attachments.declarations(req);
  CHECK_FALSE(d.ipam);
  CHECK_FALSE(d.result);
  req.template_name = "no-such-template";
  CHECK_THROWS_AS(attachments.declarations(req), TemplateNotFoundError);
}
