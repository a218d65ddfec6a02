// `state: absent` on addresses, neighbours and rules, through topo::Attachments against the real kernel: the
// foreign objects a template names are removed by ADD, a second ADD plans nothing, and DEL puts each back
// exactly as it was (the pod's `ip` output is compared before and after).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cni/request.h"
#include "netns_fixture.h"
#include "topo/attachment.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;
using nlohmann::json;

namespace {

// A pod whose previous plugin left an address (with a broadcast), an IPv6 address (noprefixroute), a
// labelled address, a permanent neighbour entry and a policy rule (proto static): the template says none of
// them may exist.
struct Lab {
  Netns node, pod;
  std::string dir;
  Lab() {
    char tmpl[] = "/tmp/topo-absent-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir + "/templates");
    std::ofstream(dir + "/templates/absent.yaml") << R"(container:
  addresses:
    - {dev: eth0, address: 10.1.0.5/24, state: absent}
    - {dev: eth0, address: "fd00:1::5/64", state: absent}
    - {dev: eth0p, address: 10.9.0.5/24, state: absent}
  neighbours:
    - {dev: eth0, address: 10.1.0.1, state: absent}
  rules:
    - {priority: 100, from: 10.1.0.0/16, state: absent}
)";
    std::ofstream(dir + "/templates/owner.yaml") << "container:\n  addresses:\n    - {dev: eth0p, address: 10.5.0.1/24}\n";
    std::ofstream(dir + "/templates/absent-owned.yaml")
        << "container:\n  addresses:\n    - {dev: eth0p, address: 10.5.0.1/24, state: absent}\n";
    std::ofstream(dir + "/templates/absent-exotic.yaml")
        << "container:\n  rules:\n    - {priority: 101, from: 10.2.0.0/16, state: absent}\n";
    pod.ip("link add eth0 type veth peer name eth0p");
    pod.ip("link set eth0 up");
    pod.ip("link set eth0p up");
    pod.ip("addr add 10.1.0.5/24 broadcast 10.1.0.255 dev eth0");
    pod.ip("-6 addr add fd00:1::5/64 dev eth0 noprefixroute nodad");
    pod.ip("addr add 10.9.0.5/24 dev eth0p label eth0p:9");
    pod.ip("neigh add 10.1.0.1 lladdr 02:00:00:00:00:09 dev eth0 nud permanent");
    pod.ip("rule add pref 100 from 10.1.0.0/16 lookup 200 proto static");
    pod.ip("rule add pref 101 from 10.2.0.0/16 ipproto tcp lookup 200");
  }
  ~Lab() { std::filesystem::remove_all(dir); }

  Attachments attachments() const { return Attachments(Options{{dir + "/templates"}, dir + "/state"}); }
  Request request(const char* command, const char* tmpl = "absent", const char* id = "pod1") const {
    json config = {{"cniVersion", "1.0.0"}, {"name", "net1"}, {"type", "topocni"}, {"template", tmpl}};
    return cni::request_of(config, command, id, pod.path(), "eth0");
  }
  std::string snapshot() const {
    return pod.ip("-d addr show") + pod.ip("neigh show nud permanent") + pod.ip("route show table all") +
           pod.ip("-6 route show table all") + pod.ip("rule show") + pod.ip("-6 rule show");
  }
  json journal() const {
    std::ifstream in(dir + "/state/net1/pod1-eth0@absent.json");
    return json::parse(in);
  }
};

}  // namespace

TEST_CASE("state: absent: ADD removes the foreign address, neighbour and rule; DEL puts them back exactly") {
  Lab lab;
  std::string before = lab.snapshot();
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD"));
  std::string addrs = lab.pod.ip("addr show");
  CHECK(addrs.find("10.1.0.5") == std::string::npos);
  CHECK(addrs.find("fd00:1::5") == std::string::npos);
  CHECK(addrs.find("10.9.0.5") == std::string::npos);
  CHECK(lab.pod.ip("neigh show 10.1.0.1 dev eth0").empty());
  std::string rules = lab.pod.ip("rule show");
  CHECK(rules.find("100:") == std::string::npos);
  CHECK(rules.find("101:") != std::string::npos);  // not named: untouched
  // The journal says what to put back: each foreign object with its own attributes.
  json taken = lab.journal().at("takenOver");
  CHECK(taken.at("addresses").size() == 3);
  CHECK(taken.at("neighbours").size() == 1);
  CHECK(taken.at("rules").size() == 1);
  CHECK(taken.at("rules")[0].at("protocol") == 4);  // RTPROT_STATIC

  // Re-applying changes nothing: the plan is empty (0 mutations), and CHECK passes.
  Planned again = lab.attachments().plan(lab.request("ADD"));
  CHECK(again.plan.changes.size() == 0);
  CHECK_NOTHROW(lab.attachments().check(lab.request("CHECK")));
  lab.attachments().add(lab.request("ADD"));
  CHECK(lab.journal().at("takenOver").at("addresses").size() == 3);  // a repeated ADD keeps what to put back

  lab.attachments().del(lab.request("DEL"));
  CHECK(lab.snapshot() == before);
  CHECK_FALSE(std::filesystem::exists(lab.dir + "/state/net1/pod1-eth0@absent.json"));
}

TEST_CASE("state: absent refuses a foreign rule it could not put back, and changes nothing") {
  Lab lab;
  std::string before = lab.snapshot();
  NetnsGuard in_node(lab.node.path());
  CHECK_THROWS_WITH_AS(lab.attachments().add(lab.request("ADD", "absent-exotic")),
                       doctest::Contains("attributes topocni cannot put back on DEL"), ConflictError);
  CHECK(lab.snapshot() == before);
  CHECK_FALSE(std::filesystem::exists(lab.dir + "/state/net1/pod1-eth0@absent.json"));
}

TEST_CASE("state: absent on another attachment's object is a conflict naming the owner, and changes nothing") {
  Lab lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD", "owner", "pod2"));
  std::string before = lab.snapshot();
  CHECK(before.find("10.5.0.1/24") != std::string::npos);
  CHECK_THROWS_WITH_AS(lab.attachments().add(lab.request("ADD", "absent-owned")),
                       doctest::Contains("belongs to attachment net1/pod2/eth0"), ConflictError);
  CHECK(lab.snapshot() == before);
  lab.attachments().del(lab.request("DEL", "owner", "pod2"));
  CHECK(lab.pod.ip("addr show dev eth0p").find("10.5.0.1") == std::string::npos);
}
