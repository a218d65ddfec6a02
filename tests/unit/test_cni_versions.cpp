// Results across CNI versions: prevResult of any supported version is read into one internal form, and the
// result goes out in the config's cniVersion (0.3.x/0.4.0 ips carry "version", 1.x ips do not).
#include <doctest/doctest.h>

#include <functional>

#include "cni/cni.h"

using namespace topo;
using nlohmann::json;

namespace {

// What host-local + macvlan hand over, in the shape of `version`.
json prev_in(const std::string& version) {
  json prev = json::parse(R"({"interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/var/run/netns/p"}],
    "ips":[{"address":"10.10.20.50/24","gateway":"10.10.20.254","interface":0},
           {"address":"fd00::32/64","gateway":"fd00::1","interface":0}],
    "routes":[{"dst":"0.0.0.0/0"}],"dns":{}})");
  prev["cniVersion"] = version;
  if (version.starts_with("0.")) {
    prev["ips"][0]["version"] = "4";
    prev["ips"][1]["version"] = "6";
  }
  return prev;
}

json config_in(const std::string& version, const json& prev) {
  json c = {{"cniVersion", version}, {"name", "cni0"}, {"type", "veth-to-host"}};
  if (!prev.is_null()) c["prevResult"] = prev;
  return c;
}

int code_of(const std::function<void()>& f, std::string* msg = nullptr) {
  try {
    f();
  } catch (const cni::Error& e) {
    if (msg) *msg = e.msg;
    return e.code;
  }
  return 0;
}

}  // namespace

TEST_CASE("every supported version parses its prevResult into the 1.x form and answers in its own") {
  for (const std::string& version : cni::supported_versions()) {
    CAPTURE(version);
    json config = cni::parse_config(config_in(version, prev_in(version)).dump());
    const json& internal = config["prevResult"];
    for (const json& ip : internal["ips"]) CHECK_FALSE(ip.contains("version"));
    CHECK(internal["ips"][0]["gateway"] == "10.10.20.254");
    CHECK(internal["ips"][1]["interface"] == 0);

    json result = cni::make_result(config, {{"vethabc", "aa:bb:cc:dd:ee:ff", ""}, {"veth0", "11:22:33:44:55:66", "/p"}});
    CHECK(result["cniVersion"] == version);
    bool old = version.starts_with("0.");
    CHECK(result["ips"][0].contains("version") == old);
    if (old) {
      CHECK(result["ips"][0]["version"] == "4");
      CHECK(result["ips"][1]["version"] == "6");
    }
    CHECK(result["ips"][0]["gateway"] == "10.10.20.254");
    REQUIRE(result["interfaces"].size() == 2);  // eth0 from prevResult, then our host side (no pod-side veth0)
    CHECK(result["interfaces"][0]["name"] == "eth0");  // index 0 still means the earlier plugin's interface
    CHECK(result["interfaces"][1]["name"] == "vethabc");
    CHECK(result["routes"] == json::parse(R"([{"dst":"0.0.0.0/0"}])"));
    CHECK(result.contains("dns"));
  }
}

TEST_CASE("a prevResult in another version than the config is converted to the config's") {
  // 1.0.0-shaped prevResult (no ips.version) under a 0.4.0 config, and the reverse.
  json r = cni::make_result(cni::parse_config(config_in("0.4.0", prev_in("1.0.0")).dump()), {});
  CHECK(r["ips"][0]["version"] == "4");
  r = cni::make_result(cni::parse_config(config_in("1.1.0", prev_in("0.3.1")).dump()), {});
  CHECK_FALSE(r["ips"][0].contains("version"));
  CHECK(r["cniVersion"] == "1.1.0");
}

TEST_CASE("prevResult errors are code 7 and name the key") {
  std::string msg;
  json prev = prev_in("0.3.1");
  prev["ips"][0]["version"] = "6";
  CHECK(code_of([&] { cni::parse_config(config_in("0.3.1", prev).dump()); }, &msg) == cni::kInvalidConfig);
  CHECK(msg.find("prevResult.ips[0].version") != std::string::npos);

  prev = prev_in("1.0.0");
  prev["ips"][1]["interface"] = 3;
  CHECK(code_of([&] { cni::parse_config(config_in("1.0.0", prev).dump()); }, &msg) == cni::kInvalidConfig);
  CHECK(msg.find("prevResult.ips[1].interface") != std::string::npos);

  prev = prev_in("1.0.0");
  prev["ips"][0]["address"] = "not-an-ip";
  CHECK(code_of([&] { cni::parse_config(config_in("1.0.0", prev).dump()); }, &msg) == cni::kInvalidConfig);
  CHECK(msg.find("prevResult.ips[0].address") != std::string::npos);

  prev = prev_in("1.0.0");
  prev["ips"][0]["gateway"] = "fd00::1";
  CHECK(code_of([&] { cni::parse_config(config_in("1.0.0", prev).dump()); }, &msg) == cni::kInvalidConfig);
  CHECK(msg.find("prevResult.ips[0].gateway") != std::string::npos);

  prev = prev_in("1.0.0");
  prev["routes"] = "0.0.0.0/0";
  CHECK(code_of([&] { cni::parse_config(config_in("1.0.0", prev).dump()); }, &msg) == cni::kInvalidConfig);
  CHECK(msg.find("prevResult.routes") != std::string::npos);

  CHECK(code_of([&] { cni::parse_config(config_in("1.0.0", json::array()).dump()); }) == cni::kInvalidConfig);
  // null is as good as absent (ADD then says prevResult is missing)
  CHECK_FALSE(cni::parse_config(config_in("1.0.0", nullptr).dump() + "").contains("prevResult"));
}

TEST_CASE("unsupported versions are code 1 and the supported ones are listed") {
  for (const char* v : {"0.1.0", "0.2.0", "1.2.0", "2.0.0", ""}) {
    std::string msg;
    CAPTURE(v);
    CHECK(code_of([&] { cni::parse_config(config_in(v, nullptr).dump()); }, &msg) == cni::kIncompatibleVersion);
  }
  CHECK(cni::supported_versions() == std::vector<std::string>{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"});
}
