// The whole engine against the real kernel: a node namespace and a pod namespace, the flagship template,
// ADD / plan / DEL through topo::Attachments exactly as the plugin runs them.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>

#include "netns_fixture.h"
#include "cni/request.h"
#include "topo/attachment.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;
using nlohmann::json;

namespace {

// A node with an underlay interface, a pod with a macvlan child of it (as the macvlan plugin leaves it), and
// foreign objects topocni must never touch.
struct NodeAndPod {
  Netns lan, node, pod;
  std::string state_dir;

  NodeAndPod() {
    char tmpl[] = "/tmp/topo-attach-XXXXXX";
    state_dir = ::mkdtemp(tmpl);
    node.ip("link add enp5s0f0 type veth peer name lan0 netns " + lan.name());
    node.ip("addr add 10.10.20.1/24 dev enp5s0f0");
    node.ip("link set enp5s0f0 up");
    lan.ip("link set lan0 up");
    node.ip("link add eth0 link enp5s0f0 type macvlan mode bridge");
    node.ip("link set eth0 netns " + pod.name());
    pod.ip("addr add 10.10.20.50/24 dev eth0");
    pod.ip("link set eth0 up");
    pod.ip("route add default via 10.10.20.254 dev eth0 proto boot");
    // Foreign: a route in another table, a rule at the priority veth-to-host uses, a NAT table.
    node.ip("route add 192.0.2.0/24 dev enp5s0f0 table 100");
    node.ip("rule add pref 1000 from 192.0.2.0/24 lookup 100");
    node.exec("nft add table ip kube");
    node.exec("nft add chain ip kube pre '{ type nat hook prerouting priority dstnat; }'");
    node.exec("nft add rule ip kube pre ip daddr 10.96.0.10 tcp dport 80 dnat to 10.10.20.2:8080");
  }
  ~NodeAndPod() { std::filesystem::remove_all(state_dir); }

  Request request(const std::string& command) const {
    json prev = json::parse(R"({"cniVersion":"0.3.1",
      "interfaces":[{"name":"eth0","sandbox":"PODNS"}],
      "ips":[{"version":"4","interface":0,"address":"10.10.20.50/24","gateway":"10.10.20.254"}],
      "routes":[{"dst":"0.0.0.0/0"}]})");
    prev["interfaces"][0]["sandbox"] = pod.path();
    json config = {{"cniVersion", "0.3.1"},      {"name", "cni0"},      {"type", "veth-to-host"},
                   {"hostInterface", "enp5s0f0"}, {"containerInterface", "veth0"}, {"ipMasq", true},
                   {"prevResult", prev}};
    return cni::request_of(config, command, "c0ffee", pod.path(), "eth0");
  }

  Attachments attachments() const { return Attachments(Options{{}, state_dir}); }

  // Everything an ADD could touch, as the tools print it.
  std::string snapshot(const Netns& ns) const {
    return ns.links() + must("ip -n " + ns.name() + " addr show") +
           must("ip -n " + ns.name() + " route show table all") + must("ip -n " + ns.name() + " rule show") +
           must("ip netns exec " + ns.name() + " nft list ruleset") +
           must("ip netns exec " + ns.name() + " sysctl -a --pattern 'net.ipv4.(ip_forward|conf)' 2>/dev/null");
  }
};

}  // namespace

TEST_CASE("ADD creates the veth-to-host topology; a second plan is empty; DEL restores both namespaces exactly") {
  NodeAndPod lab;
  std::string node_before = lab.snapshot(lab.node), pod_before = lab.snapshot(lab.pod);
  {
    NetnsGuard in_node(lab.node.path());
    auto created = lab.attachments().add(lab.request("ADD"));
    REQUIRE(created.size() == 2);
    CHECK(created[0].name.starts_with("veth"));
    CHECK(created[0].scope == "host");
    CHECK(created[1].name == "veth0");
    CHECK(created[1].scope == "container");
    CHECK(created[1].mac.size() == 17);

    Planned again = lab.attachments().plan(lab.request("ADD"));
    CHECK(again.plan.empty());
  }
  // Read back with the kernel's own tools.
  std::string host_route = lab.node.ip("route show 10.10.20.50");
  CHECK(host_route.find("proto 157 scope link") != std::string::npos);
  std::string rules = lab.node.ip("rule show");
  CHECK(rules.find("1000:\tfrom 192.0.2.0/24 lookup 100") != std::string::npos);  // foreign rule kept
  CHECK(rules.find("iif veth") != std::string::npos);
  CHECK(lab.pod.ip("route show default").find("default via 10.10.20.1 dev veth0 proto 157") != std::string::npos);
  CHECK(lab.pod.exec("sysctl -n net.ipv4.conf.veth0.forwarding") == "1\n");
  CHECK(lab.node.exec("nft list table inet topocni").find("snat ip to 10.10.20.1") != std::string::npos);
  CHECK(lab.node.exec("nft list table ip kube").find("dnat to 10.10.20.2:8080") != std::string::npos);

  {
    NetnsGuard in_node(lab.node.path());
    lab.attachments().del(lab.request("DEL"));
  }
  CHECK(lab.snapshot(lab.node) == node_before);
  CHECK(lab.snapshot(lab.pod) == pod_before);  // the taken-over default route is back, as it was
}

TEST_CASE("a hand-deleted route shows as exactly one create in the plan, and ADD repairs only that") {
  NodeAndPod lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD"));
  must("ip route del 10.10.20.50/32");  // we are inside the node namespace
  Planned drift = lab.attachments().plan(lab.request("ADD"));
  REQUIRE(drift.plan.changes.size() == 1);
  CHECK(drift.plan.changes[0].action == Action::Create);
  CHECK(describe(drift.plan.changes[0].object).starts_with("route 10.10.20.50 dev veth"));
  lab.attachments().add(lab.request("ADD"));
  CHECK(lab.attachments().plan(lab.request("ADD")).plan.empty());
  lab.attachments().del(lab.request("DEL"));
}

TEST_CASE("DEL plan lists what ADD made; a second DEL is a no-op") {
  NodeAndPod lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD"));
  Planned del = lab.attachments().plan(lab.request("DEL"));
  CHECK(del.source == "journal");
  CHECK(del.plan.count(Action::Delete) == 8);  // nat x2, rule, routes x3 (pod default, pod /32, host /32 ...)
  CHECK(del.plan.count(Action::Create) == 1);  // the pod's original default route comes back
  lab.attachments().del(lab.request("DEL"));
  CHECK_NOTHROW(lab.attachments().del(lab.request("DEL")));
}

TEST_CASE("an interface name taken in the pod is a conflict naming it, and nothing changes") {
  NodeAndPod lab;
  lab.pod.ip("link add veth0 type veth peer name other0");
  std::string node_before = lab.snapshot(lab.node), pod_before = lab.snapshot(lab.pod);
  {
    NetnsGuard in_node(lab.node.path());
    CHECK_THROWS_WITH_AS(lab.attachments().add(lab.request("ADD")),
                         "interface 'veth0' already exists in namespace 'container'", ConflictError);
  }
  CHECK(lab.snapshot(lab.node) == node_before);
  CHECK(lab.snapshot(lab.pod) == pod_before);
}

TEST_CASE("a host interface that does not exist is named") {
  NodeAndPod lab;
  Request req = lab.request("ADD");
  req.parameters["hostInterface"] = "enp9s9";
  NetnsGuard in_node(lab.node.path());
  // Positioned at the template's scalar that asked; the plugin still reports it as a conflict (CNI code 101).
  CHECK_THROWS_WITH_AS(lab.attachments().add(req), doctest::Contains(": host interface 'enp9s9' does not exist"),
                       HostFactError);
}

TEST_CASE("a 250-character container id still fits the ownership marks (alias, NAT comment)") {
  NodeAndPod lab;
  std::string node_before = lab.snapshot(lab.node);
  Request add = lab.request("ADD");
  add.attachment.container_id = std::string(250, 'a');
  Request del = add;
  del.command = "DEL";
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(add);
  CHECK(lab.attachments().plan(add).plan.empty());
  std::string alias = must("ip -d link show | grep -o 'alias topocni:[^ ]*'");
  CHECK(alias.size() < 128);
  lab.attachments().del(del);
  CHECK(lab.snapshot(lab.node) == node_before);
}
