// CHECK names every kind of difference; GC removes exactly the attachments not in the valid list; STATUS
// reports whether the state directory can be written.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "conformance_lab.h"
#include "cni/cni.h"
#include "cni/request.h"

using namespace topo;
using namespace topo::test;
using nlohmann::json;

namespace {

// CHECK's error, or code 0 when it passes.
cni::Error check(ConformanceLab& lab, int i = 0) {
  NetnsGuard in_node(lab.node.path());
  try {
    lab.attachments().check(lab.request("CHECK", i));
  } catch (const std::exception& e) {
    cni::ErrorReply r = cni::reply_for(e);
    return cni::Error(r.code, r.msg, r.details);
  }
  return cni::Error(0, "");
}

std::string host_veth(ConformanceLab& lab) {
  std::string name = must("ip -n " + lab.node.name() + " -o link show type veth | grep -o 'veth[0-9a-f]\\{11\\}' | head -1");
  REQUIRE(name.size() == 16);
  return name.substr(0, 15);
}

}  // namespace

TEST_CASE("CHECK passes after ADD and names each kind of object that differs") {
  ConformanceLab lab;
  {
    NetnsGuard in_node(lab.node.path());
    lab.attachments().add(lab.request("ADD"));
  }
  CHECK(check(lab).code == 0);
  std::string veth = host_veth(lab);
  struct Drift {
    std::string what;      // what the details must name
    std::string break_it;  // a command run in the node or pod
    bool in_pod;
  };
  std::vector<Drift> drifts = {
      {"route 10.10.20.50", "ip route del 10.10.20.50/32", false},
      {"rule pref 1000", "ip rule del pref 1000 iif " + veth, false},
      {"nat", "nft flush table inet topocni", false},
      {"sysctl net.ipv4.conf." + veth + ".rp_filter", "sysctl -qw net.ipv4.conf." + veth + ".rp_filter=0", false},
      {"link " + veth, "ip link set " + veth + " down", false},
      {"route default", "ip route del default", true},
      {"sysctl net.ipv4.conf.veth0.forwarding", "sysctl -qw net.ipv4.conf.veth0.forwarding=0", true},
  };
  for (const Drift& d : drifts) {
    CAPTURE(d.what);
    (d.in_pod ? *lab.pods[0] : lab.node).exec(d.break_it);
    cni::Error e = check(lab);
    CHECK(e.code == cni::kCheckFailed);
    CHECK(e.details.find(d.what) != std::string::npos);
    MESSAGE("CHECK said: " << e.msg << " — " << e.details);
    {
      NetnsGuard in_node(lab.node.path());
      lab.attachments().add(lab.request("ADD"));  // repair, so the next drift is the only one
    }
    CHECK(check(lab).code == 0);
  }
  NetnsGuard in_node(lab.node.path());
  lab.attachments().del(lab.request("DEL"));
}

TEST_CASE("GC removes every attachment of the network not in cni.dev/valid-attachments, and only those") {
  ConformanceLab lab(3);
  std::string node_before = lab.snapshot(lab.node);
  NetnsGuard in_node(lab.node.path());
  for (int i = 0; i < 3; ++i) lab.attachments().add(lab.request("ADD", i));
  json config = lab.request("GC").parameters;
  config["cniVersion"] = "1.1.0";
  config["cni.dev/valid-attachments"] = json::array({{{"containerID", "c0ffee1"}, {"ifname", "eth0"}}});
  auto removed = lab.attachments().gc(cni::request_of(config, "GC", "", "", ""), cni::valid_attachments(config));
  CHECK(removed == std::vector<std::string>{"cni0/c0ffee0/eth0/veth-to-host", "cni0/c0ffee2/eth0/veth-to-host"});
  CHECK_FALSE(std::filesystem::exists(lab.journal_path(0)));
  CHECK(std::filesystem::exists(lab.journal_path(1)));
  CHECK_FALSE(std::filesystem::exists(lab.journal_path(2)));
  CHECK(lab.pods[0]->ip("link show").find("veth0") == std::string::npos);
  CHECK(lab.pods[2]->ip("link show").find("veth0") == std::string::npos);
  CHECK_NOTHROW(lab.attachments().check(lab.request("CHECK", 1)));  // the valid one is intact
  std::string nat = lab.node.exec("nft list table inet topocni");
  CHECK(nat.find("c0ffee1") != std::string::npos);
  CHECK(nat.find("c0ffee0") == std::string::npos);
  // Another network's GC with an empty list touches nothing of cni0.
  json other = config;
  other["name"] = "other";
  other["cni.dev/valid-attachments"] = json::array();
  CHECK(lab.attachments().gc(cni::request_of(other, "GC", "", "", ""), cni::valid_attachments(other)).empty());
  CHECK_NOTHROW(lab.attachments().check(lab.request("CHECK", 1)));
  config["cni.dev/valid-attachments"] = json::array();
  CHECK(lab.attachments().gc(cni::request_of(config, "GC", "", "", ""), cni::valid_attachments(config)) ==
        std::vector<std::string>{"cni0/c0ffee1/eth0/veth-to-host"});
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
}

TEST_CASE("GC rejects a malformed valid-attachments list with code 7") {
  json config = {{"cniVersion", "1.1.0"}, {"name", "cni0"}, {"type", "veth-to-host"}};
  for (json bad : {json(nullptr), json("x"), json::array({1}), json::array({{{"containerID", "a"}}})}) {
    config["cni.dev/valid-attachments"] = bad;
    CAPTURE(bad.dump());
    try {
      cni::valid_attachments(config);
      FAIL("expected an error");
    } catch (const cni::Error& e) {
      CHECK(e.code == cni::kInvalidConfig);
      CHECK(e.msg.find("cni.dev/valid-attachments") != std::string::npos);
    }
  }
}

TEST_CASE("STATUS: ready when the state directory is writable, an error when it is not") {
  char tmpl[] = "/tmp/topo-status-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  CHECK_NOTHROW(Attachments(Options{{}, dir + "/state"}).status());
  CHECK_FALSE(std::filesystem::exists(dir + "/state/.status"));  // the probe is gone again, and its directory
  std::ofstream(dir + "/file") << "x";
  // The plugin answers code 50 for it (e2e: test_conformance.sh).
  CHECK_THROWS(Attachments(Options{{}, dir + "/file"}).status());
  std::filesystem::remove_all(dir);
}

TEST_CASE("the journal is private and replaced atomically") {
  ConformanceLab lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD"));
  struct stat st {};
  REQUIRE(::stat(lab.journal_path(0).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(lab.state_dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0077) == 0);
  REQUIRE(::stat((lab.state_dir + "/cni0").c_str(), &st) == 0);
  CHECK((st.st_mode & 0077) == 0);
  // No temp file is left next to it; only the journal and the attachment's lock (lifecycle/attachment_lock.h).
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(lab.state_dir + "/cni0")) {
    CHECK((f.path().extension() == ".json" || f.path().extension() == ".lock"));
    REQUIRE(::stat(f.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    ++files;
  }
  CHECK(files == 2);
  lab.attachments().del(lab.request("DEL"));
  CHECK_FALSE(std::filesystem::exists(lab.state_dir + "/cni0"));  // the network's directory went with its last journal
}
