#include <doctest/doctest.h>

#include <cstdlib>

#include "cni/cni.h"
#include "cni/json_limits.h"
#include "cni/request.h"

using namespace topo;

namespace {
int code_of(const std::string& text) {
  try {
    cni::parse_config(text);
  } catch (const cni::Error& e) {
    return e.code;
  }
  return 0;
}
}  // namespace

TEST_CASE("network config errors carry the spec's codes") {
  CHECK(code_of(R"({"cniVersion":"0.3.1","name":"cni0","type":"veth-to-host"})") == 0);
  CHECK(code_of("{not json") == cni::kDecodeFailure);
  CHECK(code_of("[1,2]") == cni::kDecodeFailure);
  CHECK(code_of(R"({"name":"cni0","type":"x"})") == cni::kInvalidConfig);
  CHECK(code_of(R"({"cniVersion":"0.3.1","name":5,"type":"x"})") == cni::kInvalidConfig);
  CHECK(code_of(R"({"cniVersion":"0.2.0","name":"cni0","type":"x"})") == cni::kIncompatibleVersion);
  CHECK(code_of(R"({"cniVersion":"1.1.0","name":"bad/name","type":"x"})") == cni::kInvalidConfig);
  CHECK(code_of(R"({"cniVersion":"1.0.0","name":"n","type":"x","prevResult":[]})") == cni::kInvalidConfig);
}

TEST_CASE("the missing key is named") {
  try {
    cni::parse_config(R"({"cniVersion":"0.3.1","type":"x"})");
    FAIL("expected an error");
  } catch (const cni::Error& e) {
    CHECK(e.msg == "invalid network config: key 'name' is missing");
  }
}

TEST_CASE("CNI_* variables are validated and named") {
  setenv("CNI_COMMAND", "ADD", 1);
  setenv("CNI_CONTAINERID", "abc-123", 1);
  setenv("CNI_NETNS", "/var/run/netns/x", 1);
  setenv("CNI_IFNAME", "eth0", 1);
  CHECK(cni::read_environment().container_id == "abc-123");
  setenv("CNI_CONTAINERID", "../../etc", 1);
  CHECK_THROWS_WITH(cni::read_environment(), "invalid CNI_CONTAINERID");
  setenv("CNI_CONTAINERID", "abc", 1);
  setenv("CNI_IFNAME", "a-very-long-interface-name", 1);
  CHECK_THROWS_WITH(cni::read_environment(), "invalid CNI_IFNAME");
  unsetenv("CNI_IFNAME");
  CHECK_THROWS_WITH(cni::read_environment(), "CNI_IFNAME is not set");
  setenv("CNI_IFNAME", "eth0", 1);
  setenv("CNI_COMMAND", "DEL", 1);
  unsetenv("CNI_NETNS");
  CHECK_NOTHROW(cni::read_environment());  // DEL after the pod's namespace is gone
  setenv("CNI_COMMAND", "FROB", 1);
  try {
    cni::read_environment();
    FAIL("expected an error");
  } catch (const cni::Error& e) {
    CHECK(e.code == cni::kInvalidEnvironment);
  }
  for (const char* v : {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME"}) unsetenv(v);
}

TEST_CASE("the result passes prevResult through and appends our host-side interfaces") {
  auto config = nlohmann::json::parse(R"({"cniVersion":"0.3.1","name":"cni0","type":"veth-to-host",
    "prevResult":{"cniVersion":"0.3.1","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/p"}],
                  "ips":[{"version":"4","address":"10.10.20.50/24","interface":0}]}})");
  auto r = cni::make_result(config, {{"veth1234", "aa:bb:cc:dd:ee:ff", ""}, {"veth0", "11:22:33:44:55:66", "/var/run/netns/p"}});
  CHECK(r["cniVersion"] == "0.3.1");
  CHECK(r["ips"][0]["version"] == "4");
  CHECK(r["ips"][0]["interface"] == 0);  // indices into interfaces stay valid: ours are appended
  REQUIRE(r["interfaces"].size() == 2);
  CHECK(r["interfaces"][1] == nlohmann::json::parse(R"({"name":"veth1234","mac":"aa:bb:cc:dd:ee:ff"})"));
  // The runtime's view of the attachment inside the pod is CNI_IFNAME alone: podman re-ADDs with the name
  // of any interface that has a sandbox (network reload, restore), so the pod's veth0 must not be one.
  int in_sandbox = 0;
  for (const auto& i : r["interfaces"]) in_sandbox += i.contains("sandbox") && !i["sandbox"].get<std::string>().empty();
  CHECK(in_sandbox == 1);
}

TEST_CASE("error JSON has the spec's fields") {
  auto j = cni::error_json("0.4.0", 7, "invalid network config: key 'ipMasq' must be a bool", "got \"yes\"");
  CHECK(j["cniVersion"] == "0.4.0");
  CHECK(j["code"] == 7);
  CHECK(j["details"] == "got \"yes\"");
}

TEST_CASE("names that reach the kernel or the file system are config errors naming the key") {
  // Issue 12: a 300-character network name failed as ENAMETOOLONG (102) after rendering.
  auto with_name = [](const std::string& name) {
    return nlohmann::json{{"cniVersion", "1.0.0"}, {"name", name}, {"type", "x"}}.dump();
  };
  CHECK(code_of(with_name(std::string(128, 'n'))) == 0);
  CHECK(code_of(with_name(std::string(300, 'n'))) == cni::kInvalidConfig);
  CHECK_THROWS_WITH(cni::parse_config(with_name(std::string(300, 'n'))), "invalid network config: key 'name'");
  for (std::string bad : {std::string("uplink0\0x", 9), std::string("ve\"th0"), std::string("veth%d")}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH(cni::validate_ifname(bad, "CNI_IFNAME", cni::kInvalidEnvironment), "invalid CNI_IFNAME");
  }
  CHECK_NOTHROW(cni::validate_ifname("enp5s0f0.100", "CNI_IFNAME", cni::kInvalidEnvironment));
}

TEST_CASE("JSON nested too deep or too large is refused before it is parsed, naming the key") {
  const std::string head = R"({"cniVersion":"1.0.0","name":"n","type":"x",)";
  auto nested = [](const char* open, const char* close, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += open;
    s += "1";
    for (int i = 0; i < n; ++i) s += close;
    return s;
  };
  // 100,000 nested objects crashed the plugin (SIGSEGV); now code 7 naming the key.
  try {
    cni::parse_config(head + R"("x":)" + nested(R"({"a":)", "}", 100000) + "}");
    FAIL("expected an error");
  } catch (const cni::Error& e) {
    CHECK(e.code == cni::kInvalidConfig);
    CHECK(e.msg.find("key 'x.a.a.a'") != std::string::npos);
  }
  try {
    cni::parse_config(head + R"("prevResult":{"interfaces":[{"junk":)" + nested("[", "]", 100000) + "}]}}");
    FAIL("expected an error");
  } catch (const cni::Error& e) {
    CHECK(e.code == cni::kInvalidConfig);
    CHECK(e.msg.find("key 'prevResult.interfaces[0].junk'") != std::string::npos);
  }
  // Not an object at all: code 6.
  CHECK(code_of(nested("[", "]", 100000)) == cni::kDecodeFailure);
  // Size: the largest key is named.
  const std::string big = head + R"("small":"x","prevResult":{"dns":{"search":[")" + std::string(2 << 20, 'x') +
                          R"("]}}})";
  try {
    cni::parse_config(big);
    FAIL("expected an error");
  } catch (const cni::Error& e) {
    CHECK(e.code == cni::kInvalidConfig);
    CHECK(e.msg.find("key 'prevResult'") != std::string::npos);
  }
  // Within the limits: strings with brackets, quotes and escapes do not count as structure.
  CHECK_FALSE(cni::check_json_limits(head + R"("s":"[[[{{{\"]]]","t":[1,[2,[3]]]})"));
  CHECK(code_of(head + R"("s":"[[[{{{\"]]]","t":[1,[2,[3]]]})") == 0);
  CHECK(cni::check_json_limits(nested("[", "]", 64)) == std::nullopt);
  CHECK(cni::check_json_limits(nested("[", "]", 65)).has_value());
}

TEST_CASE("request_of: the entry's template names the attachment's plugin; a name no template can have is code 7") {
  nlohmann::json config = {{"cniVersion", "1.0.0"}, {"name", "cni0"}, {"type", "topocni"}, {"template", "macvlan"}};
  Request r = cni::request_of(config, "ADD", "c1", "/run/netns/p", "eth0");
  CHECK(r.attachment.id() == "cni0/c1/eth0/macvlan");
  CHECK(r.attachment.interface_id() == "cni0/c1/eth0");
  config.erase("template");
  config["type"] = "veth-to-host";
  CHECK(cni::request_of(config, "DEL", "c1", "", "eth0").attachment.id() == "cni0/c1/eth0/veth-to-host");
  for (const char* bad : {"../x", ".hidden", "a/b"}) {
    config["template"] = bad;
    try {
      (void)cni::request_of(config, "ADD", "c1", "/run/netns/p", "eth0");
      FAIL("accepted ", bad);
    } catch (const cni::Error& e) {
      CHECK(e.code == cni::kInvalidConfig);
      CHECK(e.msg.find("key 'template'") != std::string::npos);
    }
  }
}
