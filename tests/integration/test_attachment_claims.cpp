// Two attachments whose templates render the same object: the second ADD fails with an error naming the
// object and the attachment that owns it, and changes nothing; the first keeps working; once the first is
// deleted the second may take the object. Covers both marks: an address (protocol 157 says "topocni's", the
// journals say whose) and a link (its alias names the attachment).
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

struct Lab {
  Netns node, pod1, pod2;
  std::string dir;
  Lab() {
    char tmpl[] = "/tmp/topo-claims-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir + "/templates");
    std::ofstream(dir + "/templates/addr-on-bridge.yaml") << "host:\n  addresses:\n    - {dev: br-admin, address: 10.77.0.1/24}\n";
    std::ofstream(dir + "/templates/own-bridge.yaml") << "host:\n  links:\n    - {name: br-pods, kind: bridge}\n";
    // The same bridge from another template: a second entry of one conflist that renders a name the first has.
    std::ofstream(dir + "/templates/own-bridge-too.yaml") << "host:\n  links:\n    - {name: br-pods, kind: bridge}\n";
    node.ip("link add br-admin type bridge");  // the admin's: nobody's attachment
  }
  ~Lab() { std::filesystem::remove_all(dir); }

  Attachments attachments() const { return Attachments(Options{{dir + "/templates"}, dir + "/state"}); }
  Request request(const char* command, const char* tmpl, const char* id, const Netns& pod) const {
    json config = {{"cniVersion", "1.0.0"}, {"name", "net1"}, {"type", "topocni"}, {"template", tmpl}};
    return cni::request_of(config, command, id, pod.path(), "eth0");
  }
};

}  // namespace

TEST_CASE("two attachments that render one address: the second ADD names the owner; DEL of the first frees it") {
  TOPO_REQUIRE_LINK_KIND("bridge");
  Lab lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD", "addr-on-bridge", "pod1", lab.pod1));
  std::string after_first = lab.node.ip("addr show dev br-admin");
  CHECK(after_first.find("10.77.0.1/24") != std::string::npos);

  CHECK_THROWS_WITH_AS(lab.attachments().add(lab.request("ADD", "addr-on-bridge", "pod2", lab.pod2)),
                       doctest::Contains("address 10.77.0.1/24 dev br-admin is already there and belongs to attachment net1/pod1/eth0"),
                       ConflictError);
  CHECK(lab.node.ip("addr show dev br-admin") == after_first);
  CHECK_FALSE(std::filesystem::exists(lab.dir + "/state/net1/pod2-eth0@addr-on-bridge.json"));
  // The first attachment is intact: CHECK passes.
  CHECK_NOTHROW(lab.attachments().check(lab.request("CHECK", "addr-on-bridge", "pod1", lab.pod1)));

  lab.attachments().del(lab.request("DEL", "addr-on-bridge", "pod1", lab.pod1));
  CHECK(lab.node.ip("addr show dev br-admin").find("10.77.0.1") == std::string::npos);
  lab.attachments().add(lab.request("ADD", "addr-on-bridge", "pod2", lab.pod2));
  CHECK(lab.node.ip("addr show dev br-admin").find("10.77.0.1/24") != std::string::npos);
  lab.attachments().del(lab.request("DEL", "addr-on-bridge", "pod2", lab.pod2));
}

TEST_CASE("two attachments that render one link: the second ADD says another attachment owns it") {
  TOPO_REQUIRE_LINK_KIND("bridge");
  Lab lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD", "own-bridge", "pod1", lab.pod1));
  // Not -d: a bridge that is up shows its running timers there.
  std::string links = lab.node.ip("link show");
  CHECK_THROWS_WITH_AS(lab.attachments().add(lab.request("ADD", "own-bridge", "pod2", lab.pod2)),
                       doctest::Contains("link br-pods type bridge is already there and belongs to attachment net1/pod1/eth0"),
                       ConflictError);
  CHECK(lab.node.ip("link show") == links);
  lab.attachments().del(lab.request("DEL", "own-bridge", "pod1", lab.pod1));
  CHECK(lab.node.ip("-o link show").find("br-pods") == std::string::npos);
}

TEST_CASE("two entries of one chain (one pod interface, two templates) that render one link: 101 naming the first") {
  TOPO_REQUIRE_LINK_KIND("bridge");
  Lab lab;
  NetnsGuard in_node(lab.node.path());
  lab.attachments().add(lab.request("ADD", "own-bridge", "pod1", lab.pod1));
  CHECK(std::filesystem::exists(lab.dir + "/state/net1/pod1-eth0@own-bridge.json"));
  CHECK(lab.node.links("br-pods").find("alias topocni:net1/pod1/eth0/own-bridge") != std::string::npos);
  std::string links = lab.node.ip("link show");  // not -d: a bridge that is up shows its running timers there
  CHECK_THROWS_WITH_AS(lab.attachments().add(lab.request("ADD", "own-bridge-too", "pod1", lab.pod1)),
                       doctest::Contains("link br-pods type bridge is already there and belongs to attachment "
                                         "net1/pod1/eth0/own-bridge"),
                       ConflictError);
  CHECK(lab.node.ip("link show") == links);
  CHECK_FALSE(std::filesystem::exists(lab.dir + "/state/net1/pod1-eth0@own-bridge-too.json"));
  // The second entry's DEL (the runtime DELs every entry) leaves the first entry's bridge alone.
  lab.attachments().del(lab.request("DEL", "own-bridge-too", "pod1", lab.pod1));
  CHECK(lab.node.ip("link show") == links);
  lab.attachments().del(lab.request("DEL", "own-bridge", "pod1", lab.pod1));
  CHECK(lab.node.ip("-o link show").find("br-pods") == std::string::npos);
}
