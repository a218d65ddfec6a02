// The built-in host-local (plugin/cni/host_local) side by side with Debian's host-local binary: the same
// configs and the same sequence of ADD, CHECK and DEL on two data directories, comparing every result, every
// error message and the directories' files byte for byte after each step; then each side releasing the
// other's allocations in one shared directory. Where the built-in answers better on purpose (a bad config is
// code 7 naming the key, not 999), both must still refuse and allocate nothing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cni/cni.h"
#include "cni/host_local/host_local.h"
#include "cni/ipam.h"
#include "temp_dir.h"

using namespace topo;
using nlohmann::json;
namespace fs = std::filesystem;
namespace hl = topo::cni::host_local;

namespace {

const char* kBinary = "/usr/lib/cni/host-local";

// What one side answered: a normalised result, or an error's code and message.
struct Outcome {
  json result;
  int code{0};
  std::string msg;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << (o.code ? "error " + std::to_string(o.code) + ": " + o.msg : o.result.dump());
}

json with_data_dir(json config, const fs::path& dir) {
  config["ipam"]["dataDir"] = dir.string();
  return config;
}

Outcome binary(const std::string& command, const json& config, const hl::Caller& c) {
  std::vector<std::string> env = {"CNI_COMMAND=" + command, "CNI_CONTAINERID=" + c.container_id,
                                  "CNI_IFNAME=" + c.ifname,  "CNI_NETNS=/proc/self/ns/net",
                                  "CNI_PATH=/usr/lib/cni",   "CNI_ARGS=" + c.args};
  try {
    std::string out = cni::run_delegated(kBinary, env, config.dump(), std::chrono::seconds(20));
    if (command != "ADD") return {};
    return {cni::normalize_prev_result(json::parse(out), "host-local result"), 0, ""};
  } catch (const cni::Error& e) {
    return {nullptr, e.code, e.msg};
  }
}

Outcome builtin(const std::string& command, const json& config, const hl::Caller& c) {
  try {
    if (command == "ADD") return {hl::add(config, c), 0, ""};
    if (command == "CHECK") hl::check(config, c);
    if (command == "DEL") hl::del(config, c);
    return {};
  } catch (const cni::Error& e) {
    return {nullptr, e.code, e.msg};
  }
}

// Every file of a data directory with its text; the lock's mode too (runtimes and operators see it).
std::map<std::string, std::string> files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    if (e.is_directory()) {
      out[rel + "/"] = "";
      continue;
    }
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[rel] = ss.str();
    if (rel.ends_with("lock")) out[rel] += "mode " + std::to_string(static_cast<int>(fs::status(e.path()).permissions()));
  }
  return out;
}

std::string show(const std::map<std::string, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += k + " = " + json(v).dump() + "\n";
  return s;
}

// Two data directories, one per side; each step runs on both and compares.
struct SideBySide {
  test::TempDir bin{"topo-host-local-binary"}, own{"topo-host-local-builtin"};
  json config;

  explicit SideBySide(json c) : config(std::move(c)) {}

  Outcome step(const std::string& command, const std::string& id, const std::string& ifname = "eth0",
               const std::string& args = "") {
    hl::Caller caller{id, ifname, args};
    Outcome theirs = binary(command, with_data_dir(config, bin.path), caller);
    Outcome ours = builtin(command, with_data_dir(config, own.path), caller);
    INFO(command, " ", id, " ", ifname, " ", args);
    CHECK(ours == theirs);
    auto a = files(bin.path), b = files(own.path);
    INFO("binary's files:\n", show(a), "built-in's files:\n", show(b));
    CHECK(a == b);
    return ours;
  }
  // The same change to both directories (a file an old release left, a damaged last_reserved_ip).
  void write(const std::string& rel, const std::string& text) {
    for (const fs::path& d : {bin.path, own.path}) {
      fs::create_directories((d / rel).parent_path());
      std::ofstream(d / rel) << text;
    }
  }
};

json network(json ipam, const std::string& version = "1.0.0") {
  ipam["type"] = "host-local";
  return {{"cniVersion", version}, {"name", "hlnet"}, {"type", "bridge"}, {"ipam", ipam}};
}

bool have_binary() {
  if (::access(kBinary, X_OK) == 0) return true;
  MESSAGE("SKIP: no ", kBinary, " (Debian's containernetworking-plugins) to compare with");
  return false;
}

}  // namespace

TEST_CASE("host-local side by side: a dual-stack pool handed out, exhausted, released and handed out again") {
  if (!have_binary()) return;
  test::TempDir etc{"topo-host-local"};
  std::ofstream(etc.path / "resolv.conf") << "# comment\nnameserver 10.0.0.53\nnameserver fd00::53\n"
                                          << "domain example.org\nsearch a.example b.example\noptions ndots:2\n";
  for (std::string version : {"0.3.1", "0.4.0", "1.0.0"}) {
    CAPTURE(version);
    SideBySide s(network({{"ranges", {{{{"subnet", "10.1.0.0/29"}}},
                                      {{{"subnet", "fd00::/64"}, {"rangeStart", "fd00::10"}, {"rangeEnd", "fd00::14"}}}}},
                          {"routes", {{{"dst", "0.0.0.0/0"}}, {{"dst", "10.9.0.1/16"}, {"gw", "10.1.0.1"}}}},
                          {"resolvConf", (etc.path / "resolv.conf").string()}},
                         version));
    // 10.1.0.2-6 (the gateway .1 is skipped) and fd00::10-14: five pods.
    for (int i = 1; i <= 5; ++i) CHECK(s.step("ADD", "c" + std::to_string(i)).code == 0);
    CHECK(s.step("ADD", "c6").code == 999);  // exhausted: host-local's own message, compared above
    s.step("DEL", "c2");
    s.step("DEL", "c4");
    // Round robin: after the last address given, from the start again; c2's and c4's addresses come back.
    s.step("ADD", "c7");
    s.step("ADD", "c8", "net1");
    CHECK(s.step("ADD", "c7").code == 999);  // a second ADD of one attachment: duplicate allocation
    if (version != "0.3.1") {  // CHECK came with 0.4.0 (topocni refuses it before IPAM is asked)
      s.step("CHECK", "c3");
      CHECK(s.step("CHECK", "c9").code == 999);  // nothing held
    }
    s.step("DEL", "c9");                       // nothing held: success
    s.step("DEL", "c1");
    s.step("DEL", "c1");
    s.step("DEL", "c8", "net1");
  }
}

TEST_CASE("host-local side by side: a set of several ranges, the legacy single range, and a failing second set") {
  if (!have_binary()) return;
  // One set of two ranges (round robin moves from the first's end to the second's start), after the legacy
  // top-level range, which comes first: range set 0.
  SideBySide s(network({{"subnet", "10.5.0.0/24"}, {"rangeStart", "10.5.0.100"}, {"rangeEnd", "10.5.0.101"},
                        {"gateway", "10.5.0.254"},
                        {"ranges", {{{{"subnet", "10.2.0.0/30"}}, {{"subnet", "10.3.0.0/29"}, {"rangeStart", "10.3.0.5"}}}}}}));
  CHECK(s.step("ADD", "a").code == 0);
  CHECK(s.step("ADD", "b").code == 0);
  // Set 0 is full now: the third ADD fails in range 0, the fourth pod never gets set 1's address either.
  CHECK(s.step("ADD", "c").code == 999);
  s.step("DEL", "a");
  CHECK(s.step("ADD", "c").code == 0);
  CHECK(s.step("ADD", "d").code == 999);
  s.step("DEL", "b");
  CHECK(s.step("ADD", "d").code == 0);

  // Set 1 full while set 0 has room: set 0's address is given, then released with the error.
  SideBySide t(network({{"ranges", {{{{"subnet", "10.6.0.0/24"}}}, {{{"subnet", "10.7.0.0/30"}}}}}}));
  CHECK(t.step("ADD", "x").code == 0);
  CHECK(t.step("ADD", "y").code == 999);
}

TEST_CASE("host-local side by side: requested addresses from CNI_ARGS, args and runtimeConfig") {
  if (!have_binary()) return;
  json base = network({{"ranges", {{{{"subnet", "10.1.0.0/24"}}}, {{{"subnet", "fd00::/120"}}}}}});
  SideBySide s(base);
  CHECK(s.step("ADD", "c1", "eth0", "IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.1.0.40").code == 0);
  CHECK(s.step("ADD", "c2", "eth0", "IgnoreUnknown=true;IP=10.1.0.40").code == 999);  // taken
  CHECK(s.step("ADD", "c3", "eth0", "IP=10.1.0.1").code == 999);                      // the gateway
  CHECK(s.step("ADD", "c4", "eth0", "IP=10.8.0.1").code == 999);                      // in no range
  s.config["args"] = {{"cni", {{"ips", {"fd00::77", "10.1.0.41/24"}}}}};
  CHECK(s.step("ADD", "c5").code == 0);
  // One address asked for twice (CNI_ARGS and args) is one request.
  s.config["args"] = {{"cni", {{"ips", {"10.1.0.43"}}}}};
  CHECK(s.step("ADD", "c8", "eth0", "IP=10.1.0.43").code == 0);
  s.config.erase("args");
  s.config["runtimeConfig"] = {{"ips", {"10.1.0.42"}}};
  CHECK(s.step("ADD", "c6").code == 0);
  // A runtime's ipRanges come before the config's ranges.
  s.config["runtimeConfig"] = {{"ipRanges", {{{{"subnet", "10.20.0.0/24"}, {"rangeStart", "10.20.0.9"}}}}}};
  CHECK(s.step("ADD", "c7").code == 0);
  for (const char* id : {"c1", "c5", "c6", "c7", "c8"}) s.step("DEL", id);
}

TEST_CASE("host-local side by side: an old release's files, and a damaged last_reserved_ip") {
  if (!have_binary()) return;
  SideBySide s(network({{"ranges", {{{{"subnet", "10.1.0.0/29"}}}}}}));
  // A release before 0.7 wrote the container id alone: CHECK finds it, DEL releases it.
  s.write("hlnet/10.1.0.5", "old1\n");
  s.step("CHECK", "old1");
  s.step("DEL", "old1");
  // A last_reserved_ip that is not an address, or not in the range: the round robin starts over.
  s.write("hlnet/last_reserved_ip.0", "garbage");
  s.step("ADD", "c1");
  s.write("hlnet/last_reserved_ip.0", "192.168.7.7");
  s.step("ADD", "c2");
  s.write("hlnet/last_reserved_ip.0", "10.1.0.6");  // the range's last address: wraps to the start
  s.step("ADD", "c3");
}

TEST_CASE("host-local side by side: files in a sub-directory count, a symlink to a directory is skipped") {
  if (!have_binary()) return;
  SideBySide s(network({{"ranges", {{{{"subnet", "10.1.0.0/29"}}}}}}));
  // host-local walks the whole tree: an old release's file one level down is found and released.
  s.write("hlnet/sub/10.1.0.5", "old1\n");
  s.write("hlnet/sub/deeper/10.1.0.6", "old2\n");
  for (const fs::path& d : {s.bin.path, s.own.path}) fs::create_directory_symlink("sub", d / "hlnet" / "link");
  s.step("CHECK", "old1");
  s.step("CHECK", "old2");
  s.step("ADD", "c1");
  s.step("DEL", "old2");
  s.step("DEL", "old1");
  s.step("DEL", "c1");
}

TEST_CASE("host-local: the binary and the built-in share one data directory, each releasing the other's") {
  if (!have_binary()) return;
  test::TempDir shared{"topo-host-local"};
  json config = with_data_dir(network({{"ranges", {{{{"subnet", "10.1.0.0/29"}}}}}}), shared.path);
  Outcome a = binary("ADD", config, {"byBinary", "eth0", ""});
  Outcome b = builtin("ADD", config, {"byBuiltin", "eth0", ""});
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(a.result["ips"][0]["address"] == "10.1.0.2/29");
  CHECK(b.result["ips"][0]["address"] == "10.1.0.3/29");  // the round robin goes on from the binary's
  CHECK(builtin("CHECK", config, {"byBinary", "eth0", ""}).code == 0);
  CHECK(binary("CHECK", config, {"byBuiltin", "eth0", ""}).code == 0);
  CHECK(builtin("DEL", config, {"byBinary", "eth0", ""}).code == 0);
  CHECK(binary("DEL", config, {"byBuiltin", "eth0", ""}).code == 0);
  auto left = files(shared.path / "hlnet");
  for (const auto& [name, text] : left) CHECK_MESSAGE(!name.starts_with("10.1.0."), name, " is still allocated");
}

TEST_CASE("host-local: a config both refuse; the built-in says which key, with code 7, and allocates nothing") {
  if (!have_binary()) return;
  struct Case {
    json ipam;
    std::string key;
  };
  const std::vector<Case> cases = {
      {{{"ranges", {{{{"subnet", "10.1.0.1/24"}}}}}}, "ipam.ranges[0][0].subnet"},  // host bits
      {{{"ranges", {{{{"subnet", "10.1.0.0/31"}}}}}}, "ipam.ranges[0][0].subnet"},  // too small
      {{{"ranges", {{{{"subnet", "10.1.0.0/24"}, {"rangeStart", "10.2.0.1"}}}}}}, "ipam.ranges[0][0].rangeStart"},
      // A start after the end: host-local names the start, as the built-in does.
      {{{"ranges", {{{{"subnet", "10.1.0.0/24"}, {"rangeStart", "10.1.0.9"}, {"rangeEnd", "10.1.0.8"}}}}}},
       "ipam.ranges[0][0].rangeStart"},
      {{{"ranges", {{{{"subnet", "10.1.0.0/24"}, {"rangeEnd", "10.1.1.8"}}}}}}, "ipam.ranges[0][0].rangeEnd"},
      {{{"ranges", {{{{"subnet", "10.1.0.0/24"}}}, {{{"subnet", "10.1.0.128/25"}}}}}}, "ipam.ranges[1]"},  // overlap
      {{{"ranges", {{{{"subnet", "10.1.0.0/24"}}, {{"subnet", "fd00::/64"}}}}}}, "ipam.ranges[0]"},  // mixed set
      {{{"ranges", json::array()}}, "ipam.ranges"},
      {{{"ranges", {{{{"subnet", "10.1.0.0/24"}}}}}, {"routes", {{{"dst", "nowhere"}}}}}, "ipam.routes[0].dst"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.ipam.dump());
    SideBySide s(network(c.ipam));
    hl::Caller caller{"c1", "eth0", ""};
    Outcome theirs = binary("ADD", with_data_dir(s.config, s.bin.path), caller);
    Outcome ours = builtin("ADD", with_data_dir(s.config, s.own.path), caller);
    CHECK(theirs.code != 0);
    CHECK(ours.code == 7);
    CHECK(ours.msg.find("'" + c.key + "'") != std::string::npos);
    for (const auto& [name, text] : files(s.own.path)) CHECK_MESSAGE(!name.starts_with("hlnet/10."), name);
  }
  // A rangeStart on the broadcast address and no rangeEnd: the start is past the default end. host-local
  // takes it and counts on out of the subnet (not run here: it walks the whole address space once the pool
  // is full); the built-in refuses the config.
  {
    test::TempDir dir{"topo-host-local"};
    json config = with_data_dir(network({{"ranges", {{{{"subnet", "10.1.0.0/24"}, {"rangeStart", "10.1.0.255"}}}}}}),
                                dir.path);
    Outcome ours = builtin("ADD", config, {"c1", "eth0", ""});
    CHECK(ours.code == 7);
    CHECK(ours.msg.find("'ipam.ranges[0][0].rangeStart': 10.1.0.255 is after the range's end 10.1.0.254") !=
          std::string::npos);
  }
  // CNI_ARGS with a key host-local does not know, without IgnoreUnknown: both refuse; the built-in says 4
  // (invalid environment) where the binary says 999.
  SideBySide s(network({{"ranges", {{{{"subnet", "10.1.0.0/24"}}}}}}));
  hl::Caller caller{"c1", "eth0", "K8S_POD_NAME=p"};
  CHECK(binary("ADD", with_data_dir(s.config, s.bin.path), caller).code != 0);
  Outcome ours = builtin("ADD", with_data_dir(s.config, s.own.path), caller);
  CHECK(ours.code == 4);
  CHECK(ours.msg.find("K8S_POD_NAME=p") != std::string::npos);
}

// A kill inside the built-in's reserve() leaves at most its claim file, written whole before it is linked to
// the address's name: the attachment's DEL removes it, by our hand or by host-local's (both match by text).
TEST_CASE("host-local: a claim a kill left is removed by the attachment's DEL, built-in or binary") {
  if (!have_binary()) return;
  for (bool by_binary : {false, true}) {
    CAPTURE(by_binary);
    test::TempDir dir{"topo-host-local"};
    json config = with_data_dir(network({{"ranges", {{{{"subnet", "10.1.0.0/29"}}}}}}), dir.path);
    fs::create_directories(dir.path / "hlnet");
    std::ofstream(dir.path / "hlnet" / ".claim-4242-10.1.0.3") << "k1\r\neth0";
    Outcome del = by_binary ? binary("DEL", config, {"k1", "eth0", ""}) : builtin("DEL", config, {"k1", "eth0", ""});
    CHECK(del.code == 0);
    CHECK_FALSE(fs::exists(dir.path / "hlnet" / ".claim-4242-10.1.0.3"));
    // The claim never took the address: the next ADD gets the first one as always.
    CHECK(builtin("ADD", config, {"k2", "eth0", ""}).result["ips"][0]["address"] == "10.1.0.2/29");
  }
}

TEST_CASE("host-local built-in GC releases what no valid attachment holds, and STATUS needs its directory") {
  test::TempDir dir{"topo-host-local"};
  json config = with_data_dir(network({{"ranges", {{{{"subnet", "10.1.0.0/24"}}}}}}), dir.path);
  for (const char* id : {"keep", "drop"}) REQUIRE(builtin("ADD", config, {id, "eth0", ""}).code == 0);
  REQUIRE(builtin("ADD", config, {"keep", "net1", ""}).code == 0);
  std::ofstream(dir.path / "hlnet" / "10.1.0.200") << "oldkeep";  // an old release's file of a valid container
  std::ofstream(dir.path / "hlnet" / "10.1.0.201") << "olddrop";
  std::ofstream(dir.path / "hlnet" / ".claim-77-10.1.0.9") << "drop\r\neth0";  // a killed ADD's claim
  hl::gc(config, {{"keep", "eth0"}, {"oldkeep", "eth0"}});
  auto left = files(dir.path / "hlnet");
  CHECK(left.count("10.1.0.2") == 1);    // keep/eth0
  CHECK(left.count("10.1.0.3") == 0);    // drop/eth0
  CHECK(left.count("10.1.0.4") == 0);    // keep/net1: not a valid attachment
  CHECK(left.count("10.1.0.200") == 1);  // an old file whose container is valid
  CHECK(left.count("10.1.0.201") == 0);
  CHECK(left.count(".claim-77-10.1.0.9") == 0);
  CHECK(left.count("last_reserved_ip.0") == 1);
  CHECK_NOTHROW(hl::status(config));
  json unusable = with_data_dir(config, "/proc/no-such-dir");
  try {
    hl::status(unusable);
    FAIL("STATUS of an unusable data directory passed");
  } catch (const cni::Error& e) {
    CHECK(e.code == 50);
  }
}

TEST_CASE("builtinHostLocal: host-local runs in-process unless the config says false; other types never do") {
  json config = network({{"ranges", {{{{"subnet", "10.1.0.0/24"}}}}}});
  CHECK(cni::builtin_host_local(config));
  config["builtinHostLocal"] = false;
  CHECK_FALSE(cni::builtin_host_local(config));
  config["builtinHostLocal"] = "no";
  CHECK_THROWS_AS(cni::builtin_host_local(config), cni::Error);
  config["builtinHostLocal"] = true;
  config["ipam"]["type"] = "static";
  CHECK_FALSE(cni::builtin_host_local(config));
}
