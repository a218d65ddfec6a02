// A link someone else made (kind existing), changed and put back against the real kernel: the previous
// plugin's eth0 (a veth end) gets mtu, mac, promisc, allmulti and a master (a bridge: this kernel has no vrf),
// read back equal, re-applied with no mutating message, and DEL puts each attribute back from the journaled
// origin (round-tripped through the journal's JSON, as after a kill), leaving `ip -d link show` as it was and
// the link in place. Also: an attribute someone changed after ADD stays theirs, and two attachments changing
// one existing link conflict, naming the first.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cni/request.h"
#include "kernel/netlink/socket.h"
#include "kinds/link/link_ops.h"
#include "netns_fixture.h"
#include "topo/apply.h"
#include "topo/attachment.h"
#include "topo/diff.h"
#include "topo/error.h"
#include "topo/model/json.h"

using namespace topo;
using namespace topo::test;
using nlohmann::json;

namespace {

Link existing_eth0() {
  Link l;
  l.scope = "container";
  l.name = "eth0";
  l.kind = LinkKind::Existing;
  l.mtu = 1400;
  l.mac = MacAddress::parse("02:11:22:33:44:55");
  l.promisc = true;
  l.allmulti = true;
  l.master = "br0";
  return l;
}

// The pod as the previous plugin left it: eth0 (one end of a veth pair from the node), up, and a bridge br0 the
// item enslaves it to.
struct Pod {
  TwoScopes ns;
  std::string before;
  Pod() {
    ns.host_ns.ip("link add vethnode type veth peer name eth0 netns " + ns.container_ns.name());
    ns.container_ns.ip("link set eth0 up");
    ns.container_ns.ip("link add br0 type bridge");
    before = links();
  }
  std::string links() const { return ns.container_ns.links("eth0"); }
};

State journal_round_trip(const State& s) {
  json j = s.of<Link>();
  State back;
  back.of<Link>() = j.get<std::vector<Link>>();
  return back;
}

}  // namespace

TEST_CASE("kernel: an existing link is changed as far as asked and put back as it was on DEL") {
  TOPO_REQUIRE_LINK_KIND("bridge");
  Pod pod;
  Kernel k(pod.ns.scopes());
  State desired;
  desired.of<Link>() = {existing_eth0()};
  KindOps<Link>::take_origins(k, desired.of<Link>(), {});
  const Link& d = desired.of<Link>()[0];
  REQUIRE(d.origin);
  CHECK(d.origin->mtu == 1500);
  CHECK(d.origin->promisc == false);
  CHECK(d.origin->allmulti == false);
  CHECK(d.origin->master == "");
  REQUIRE(d.origin->mac);
  CHECK(pod.before.find(d.origin->mac->str()) != std::string::npos);

  Plan add = diff(desired, k.observe(desired));
  REQUIRE(add.changes.size() == 1);
  CHECK(add.changes[0].action == Action::Replace);
  apply(add, k);
  std::string now = pod.links();
  CHECK(now.find("mtu 1400") != std::string::npos);
  CHECK(now.find("PROMISC") != std::string::npos);
  CHECK(now.find("ALLMULTI") != std::string::npos);
  CHECK(now.find("master br0") != std::string::npos);
  CHECK(now.find("link/ether 02:11:22:33:44:55") != std::string::npos);
  CHECK(now.find("alias") == std::string::npos);  // someone else's: never marked ours

  uint64_t sent = netlink::Socket::mutations_sent();
  CHECK(diff(desired, k.observe(desired)).empty());
  CHECK(netlink::Socket::mutations_sent() == sent);
  // DEL of the attachment never deletes it, whatever else goes.
  Plan del = diff_destroy(journal_round_trip(desired), k.observe(desired), State{});
  REQUIRE(del.changes.size() == 1);
  CHECK(del.changes[0].action == Action::Replace);

  SUBCASE("DEL puts every attribute back") {
    apply(del, k);
    CHECK(pod.links() == pod.before);
  }
  SUBCASE("an attribute someone changed after ADD stays as they set it") {
    pod.ns.container_ns.ip("link set eth0 mtu 1300");
    apply(diff_destroy(journal_round_trip(desired), k.observe(desired), State{}), k);
    std::string after = pod.links();
    CHECK(after.find("mtu 1300") != std::string::npos);
    CHECK(after.find("PROMISC") == std::string::npos);
    CHECK(after.find("ALLMULTI") == std::string::npos);
    CHECK(after.find("master br0") == std::string::npos);
    CHECK(after.find("02:11:22:33:44:55") == std::string::npos);
  }
  SUBCASE("a second ADD keeps the first ADD's origin, not the values it set") {
    State again;
    again.of<Link>() = {existing_eth0()};
    KindOps<Link>::take_origins(k, again.of<Link>(), desired.of<Link>());
    REQUIRE(again.of<Link>()[0].origin);
    CHECK(*again.of<Link>()[0].origin == *d.origin);
  }
}

TEST_CASE("kernel: two attachments changing one existing link: the second ADD names the first; a reference does not conflict") {
  Netns node, pod;
  char tmpl[] = "/tmp/topo-existing-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::filesystem::create_directories(dir + "/templates");
  std::ofstream(dir + "/templates/mtu.yaml") << "container:\n  links:\n    - {name: eth0, kind: existing, mtu: 1400}\n";
  std::ofstream(dir + "/templates/ref.yaml") << "container:\n  links:\n    - {name: eth0, kind: existing}\n";
  node.ip("link add vethnode type veth peer name eth0 netns " + pod.name());
  Attachments attachments(Options{{dir + "/templates"}, dir + "/state"});
  auto request = [&](const char* command, const char* t, const char* network) {
    json config = {{"cniVersion", "1.0.0"}, {"name", network}, {"type", "topocni"}, {"template", t},
                   {"prevResult", {{"cniVersion", "1.0.0"}, {"interfaces", json::array()}, {"ips", json::array()}}}};
    return cni::request_of(config, command, "c1", pod.path(), "eth0");
  };
  NetnsGuard in_node(node.path());
  attachments.add(request("ADD", "mtu", "first"));
  CHECK(pod.ip("link show eth0").find("mtu 1400") != std::string::npos);
  CHECK_THROWS_WITH_AS(attachments.add(request("ADD", "mtu", "second")),
                       doctest::Contains("link eth0 (existing) mtu 1400 is already there and belongs to attachment first/c1/eth0"),
                       ConflictError);
  CHECK_NOTHROW(attachments.add(request("ADD", "ref", "third")));  // only needs it to exist
  attachments.del(request("DEL", "ref", "third"));
  attachments.del(request("DEL", "mtu", "first"));
  CHECK(pod.ip("link show eth0").find("mtu 1500") != std::string::npos);
  attachments.add(request("ADD", "mtu", "second"));  // free now
  attachments.del(request("DEL", "mtu", "second"));
  CHECK(pod.ip("link show eth0").find("mtu 1500") != std::string::npos);
  std::filesystem::remove_all(dir);
}
