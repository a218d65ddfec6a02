// DEL must never leave anything behind: twice, without prevResult, without or with a vanished CNI_NETNS,
// without a journal (re-rendering, then ownership marks), after a half-done ADD. Foreign objects survive.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "conformance_lab.h"
#include "cni/cni.h"
#include "cni/request.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;
using nlohmann::json;

namespace {

void add(ConformanceLab& lab, int i = 0) {
  NetnsGuard in_node(lab.node.path());
  REQUIRE(lab.attachments().add(lab.request("ADD", i)).size() == 2);
}

void del(ConformanceLab& lab, const Request& req) {
  NetnsGuard in_node(lab.node.path());
  try {
    lab.attachments().del(req);
  } catch (const std::exception& e) {
    cni::ErrorReply r = cni::reply_for(e);
    FAIL("DEL failed: " << r.msg << ": " << r.details);
  }
}

std::string del_source(ConformanceLab& lab, const Request& req) {
  NetnsGuard in_node(lab.node.path());
  return lab.attachments().plan(req).source;
}

// What an ADD leaves on the node, checked so each test knows it starts from a real attachment.
void require_attached(ConformanceLab& lab) {
  REQUIRE(lab.node.ip("rule show").find("iif veth") != std::string::npos);
  REQUIRE(lab.node.exec("nft list table inet topocni").find("cni0/c0ffee0/eth0") != std::string::npos);
  REQUIRE(lab.node.ip("route show 10.10.20.50").find("proto 157") != std::string::npos);
}

}  // namespace

TEST_CASE("DEL twice: both succeed and node and pod are exactly as before ADD") {
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node), pod_before = lab.snapshot(*lab.pods[0]);
  add(lab);
  require_attached(lab);
  del(lab, lab.request("DEL"));
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  CHECK(changed_lines(pod_before, lab.snapshot(*lab.pods[0])) == "");
  CHECK_NOTHROW(del(lab, lab.request("DEL")));
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  CHECK_FALSE(std::filesystem::exists(lab.journal_path(0)));
}

TEST_CASE("DEL without prevResult uses the journal and restores both namespaces") {
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node), pod_before = lab.snapshot(*lab.pods[0]);
  add(lab);
  del(lab, lab.request("DEL", 0, false));
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  CHECK(changed_lines(pod_before, lab.snapshot(*lab.pods[0])) == "");
}

TEST_CASE("DEL with an empty CNI_NETNS cleans every host-side object") {
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node);
  add(lab);
  Request req = lab.request("DEL");
  req.netns = "";
  del(lab, req);
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  CHECK(lab.pods[0]->ip("link show").find("veth0") == std::string::npos);
}

TEST_CASE("DEL after the pod's namespace is gone cleans every host-side object") {
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node);
  add(lab);
  Request req = lab.request("DEL");
  lab.pods[0].reset();  // the runtime removed the pod first: the veth died with it, rule and NAT did not
  CHECK(lab.node.ip("rule show").find("iif veth") != std::string::npos);
  del(lab, req);
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
}

TEST_CASE("DEL without a journal re-renders the template, with or without prevResult") {
  for (bool with_prev : {true, false}) {
    CAPTURE(with_prev);
    ConformanceLab lab;
    std::string node_before = lab.snapshot(lab.node);
    add(lab);
    std::filesystem::remove(lab.journal_path(0));
    Request req = lab.request("DEL", 0, with_prev);
    CHECK(del_source(lab, req) == "template");
    del(lab, req);
    // Without prevResult the rendering knows no pod address (no NAT rule, no table route): the owner comment
    // and the marks find them.
    CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
    CHECK(lab.pods[0]->ip("link show").find("veth0") == std::string::npos);
  }
}

TEST_CASE("DEL without a journal and with a template that does not render finds the objects by their marks") {
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node);
  add(lab);
  std::filesystem::remove(lab.journal_path(0));
  Request req = lab.request("DEL", 0, false);
  req.template_name = "no-such-template";
  CHECK(del_source(lab, req) == "marks");
  del(lab, req);
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  CHECK(lab.pods[0]->ip("link show").find("veth0") == std::string::npos);
  CHECK(lab.pods[0]->exec("nft list ruleset").find("c0ffee0") == std::string::npos);
}

TEST_CASE("no journal, no template, no namespace: the orphaned rule and NAT are still found; a rule another "
          "journal holds is not") {
  ConformanceLab lab(2);
  std::string node_before = lab.snapshot(lab.node);
  add(lab, 0);
  add(lab, 1);
  Request del0 = lab.request("DEL", 0, false), del1 = lab.request("DEL", 1, false);
  del0.template_name = "no-such-template";
  lab.pods[0].reset();
  lab.pods[1].reset();  // both rules now point to vanished links; only pod 1 keeps its journal
  std::filesystem::remove(lab.journal_path(0));
  del(lab, del0);
  std::string rules = lab.node.ip("rule show");
  CHECK(lab.node.ip("rule show").find("iif veth") != std::string::npos);  // pod 1's, claimed by its journal
  CHECK(lab.node.exec("nft list table inet topocni").find("cni0/c0ffee1/eth0") != std::string::npos);
  CHECK(lab.node.exec("nft list table inet topocni").find("cni0/c0ffee0/eth0") == std::string::npos);
  del(lab, del1);
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
}

TEST_CASE("a first ADD does not look for NAT rules of its own; DEL removes every rule with its comment") {
  // A first ADD (no journal) creates its NAT rules without listing the chain: with no journal there is no
  // rule of this attachment, unless the journal was deleted by hand. Then the rules exist twice, and DEL,
  // which looks for every rule carrying the owner comment, removes both.
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node);
  add(lab);
  std::filesystem::remove(lab.journal_path(0));
  add(lab);
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count(lab.node.exec("nft list table inet topocni"), "cni0/c0ffee0/eth0") == 2);
  del(lab, lab.request("DEL"));
  CHECK(lab.node.exec("nft list ruleset").find("c0ffee0") == std::string::npos);
  CHECK(lab.pods[0]->exec("nft list ruleset").find("c0ffee0") == std::string::npos);
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  // (The pod keeps the values the first ADD set: its original default route and sysctls were in the lost
  // journal. That is what losing a journal costs, with or without NAT.)
}

TEST_CASE("DEL after a half-done ADD removes what exists and succeeds") {
  ConformanceLab lab;
  std::string node_before = lab.snapshot(lab.node);
  add(lab);
  // As if ADD had stopped after the veth and some routes: the journaled intent names more than exists.
  lab.node.exec("nft flush table inet topocni");
  must("ip -n " + lab.node.name() + " rule del pref 1000 iif $(ip -n " + lab.node.name() +
       " -o link show type veth | grep -o 'veth[0-9a-f]\\{11\\}' | head -1)");
  del(lab, lab.request("DEL"));
  CHECK(lab.snapshot(lab.node).find("veth0") == std::string::npos);
  CHECK(lab.node.ip("rule show") == must("ip -n " + lab.node.name() + " rule show"));
  CHECK(lab.node.ip("rule show").find("iif veth") == std::string::npos);
  CHECK(lab.node.ip("route show table all").find("proto 157") == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(lab.journal_path(0)));
}

TEST_CASE("table allocation skips a table that holds a foreign route or that a foreign rule points to") {
  ConformanceLab lab;
  auto allocated = [&] {
    std::ifstream in(lab.journal_path(0));
    return json::parse(in)["allocations"]["table"].get<uint32_t>();
  };
  add(lab);
  uint32_t first = allocated();
  del(lab, lab.request("DEL"));
  // The hash-chosen start for this attachment is `first`: make it, then the next one, unusable.
  lab.node.ip("rule add pref 2000 fwmark 7 lookup " + std::to_string(first));
  add(lab);
  uint32_t second = allocated();
  CHECK(second != first);
  del(lab, lab.request("DEL"));
  lab.node.ip("route add 198.51.100.0/24 dev enp5s0f0 table " + std::to_string(second));
  add(lab);
  uint32_t third = allocated();
  CHECK(third != first);
  CHECK(third != second);
  del(lab, lab.request("DEL"));
  CHECK(lab.node.ip("route show table " + std::to_string(second)).find("198.51.100.0/24") != std::string::npos);
  CHECK(lab.node.ip("rule show").find("fwmark 0x7 lookup " + std::to_string(first)) != std::string::npos);
}

TEST_CASE("a failed first ADD leaves no journal and nothing in the kernel") {
  ConformanceLab lab;
  lab.pods[0]->ip("link add veth0 type veth peer name other0");  // the pod's end cannot be created
  std::string node_before = lab.snapshot(lab.node);
  {
    NetnsGuard in_node(lab.node.path());
    CHECK_THROWS_AS(lab.attachments().add(lab.request("ADD")), ConflictError);
  }
  CHECK(changed_lines(node_before, lab.snapshot(lab.node)) == "");
  CHECK_FALSE(std::filesystem::exists(lab.journal_path(0)));
}
