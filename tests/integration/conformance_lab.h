// A node namespace with an underlay interface and pods whose eth0 is a macvlan child of it (as the macvlan
// plugin leaves them), plus foreign objects that every command must leave alone: a rule at the priority
// veth-to-host uses, a route in another table, a NAT table of someone else, a veth topocni did not create.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "netns_fixture.h"
#include "cni/request.h"
#include "topo/attachment.h"
#include "topo/netns.h"

namespace topo::test {

struct ConformanceLab {
  Netns lan, node;
  std::vector<std::unique_ptr<Netns>> pods;
  std::string state_dir;

  explicit ConformanceLab(int pod_count = 1) {
    char tmpl[] = "/tmp/topo-conf-XXXXXX";
    state_dir = ::mkdtemp(tmpl);
    node.ip("link add enp5s0f0 type veth peer name lan0 netns " + lan.name());
    node.ip("addr add 10.10.20.1/24 dev enp5s0f0");
    node.ip("link set enp5s0f0 up");
    lan.ip("link set lan0 up");
    for (int i = 0; i < pod_count; ++i) {
      auto pod = std::make_unique<Netns>();
      node.ip("link add eth0 link enp5s0f0 type macvlan mode bridge");
      node.ip("link set eth0 netns " + pod->name());
      pod->ip("addr add " + pod_ip(i) + "/24 dev eth0");
      pod->ip("link set eth0 up");
      pod->ip("route add default via 10.10.20.254 dev eth0 proto boot");
      pods.push_back(std::move(pod));
    }
    node.ip("route add 192.0.2.0/24 dev enp5s0f0 table 100");
    node.ip("rule add pref 1000 from 192.0.2.0/24 lookup 100");
    node.ip("link add vethforeign type veth peer name vethforeign1");
    node.ip("link set vethforeign alias someone-else");
    node.exec("nft add table ip kube");
    node.exec("nft add chain ip kube post '{ type nat hook postrouting priority srcnat; }'");
    node.exec("nft add rule ip kube post oifname enp5s0f0 masquerade");
  }
  ~ConformanceLab() { std::filesystem::remove_all(state_dir); }

  static std::string pod_ip(int i) { return "10.10.20." + std::to_string(50 + i); }
  static std::string container_id(int i) { return "c0ffee" + std::to_string(i); }

  nlohmann::json prev_result(int i) const {
    nlohmann::json prev = nlohmann::json::parse(R"({"cniVersion":"1.0.0",
      "interfaces":[{"name":"eth0"}], "ips":[{"interface":0,"gateway":"10.10.20.254"}],
      "routes":[{"dst":"0.0.0.0/0"}]})");
    prev["interfaces"][0]["sandbox"] = pods.at(i)->path();
    prev["ips"][0]["address"] = pod_ip(i) + "/24";
    return prev;
  }

  Request request(const std::string& command, int i = 0, bool with_prev = true) const {
    nlohmann::json config = {{"cniVersion", "1.0.0"},       {"name", "cni0"},
                             {"type", "veth-to-host"},      {"hostInterface", "enp5s0f0"},
                             {"containerInterface", "veth0"}, {"ipMasq", true}};
    if (with_prev) config["prevResult"] = prev_result(i);
    std::string netns = pods.at(i) ? pods.at(i)->path() : "/run/netns/topo-gone-" + std::to_string(i);
    return cni::request_of(config, command, container_id(i), netns, "eth0");
  }

  Attachments attachments() const { return Attachments(Options{{}, state_dir}); }

  std::string journal_path(int i) const { return state_dir + "/cni0/" + container_id(i) + "-eth0@veth-to-host.json"; }

  std::string snapshot(const Netns& ns) const {
    // promiscuity counts macvlan children: it drops when a test deletes a pod namespace, which is not ours.
    // (must() keeps ip's stderr out of the snapshot: see netns_fixture.h.)
    return must("ip -n " + ns.name() + " -d link show | sed -E 's/ promiscuity [0-9]+//'") + must("ip -n " + ns.name() + " addr show") +
           must("ip -n " + ns.name() + " route show table all") + must("ip -n " + ns.name() + " rule show") +
           must("ip -n " + ns.name() + " -6 rule show") + must("ip netns exec " + ns.name() + " nft list ruleset") +
           must("ip netns exec " + ns.name() + " sysctl -a --pattern 'net.ipv4.(ip_forward|conf)' 2>/dev/null");
  }
};

// The lines only one of two snapshots has ("- " before, "+ " after); "" when they are equal. Keeps a failed
// comparison readable.
inline std::string changed_lines(const std::string& before, const std::string& after) {
  auto split = [](const std::string& text) {
    std::multiset<std::string> out;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
      out.insert(text.substr(start, end - start));
    return out;
  };
  auto a = split(before), b = split(after);
  std::string out;
  for (const auto& line : a)
    if (b.count(line) < a.count(line) && out.find("- " + line + "\n") == std::string::npos) out += "- " + line + "\n";
  for (const auto& line : b)
    if (a.count(line) < b.count(line) && out.find("+ " + line + "\n") == std::string::npos) out += "+ " + line + "\n";
  return out;
}

}  // namespace topo::test
