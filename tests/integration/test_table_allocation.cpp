// Table allocation: node-wide reservation files (one per table, O_EXCL), their life cycle over ADD/DEL and
// failures, stale ones reclaimed, journals from before reservations adopted; container-scope allocation
// ("the lowest table no rule in the pod uses", as the sbr plugin picks) and one table per item.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "conformance_lab.h"
#include "topo/kernel.h"
#include "topo/model/scope.h"
#include "topo/table_allocator.h"

using namespace topo;
using namespace topo::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

uint32_t journaled_table(const ConformanceLab& lab, int pod) {
  std::ifstream in(lab.journal_path(pod));
  return json::parse(in)["allocations"]["table"].get<uint32_t>();
}

std::string reservation_owner(const ConformanceLab& lab, uint32_t table) {
  std::ifstream in(lab.state_dir + "/.tables/" + std::to_string(table));
  std::string owner;
  std::getline(in, owner);
  return owner;
}

size_t reservation_count(const ConformanceLab& lab) {
  size_t n = 0;
  std::error_code ec;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(lab.state_dir + "/.tables", ec)) ++n;
  return n;
}

void run(ConformanceLab& lab, const std::string& command, int pod) {
  NetnsGuard in_node(lab.node.path());
  if (command == "ADD") {
    lab.attachments().add(lab.request("ADD", pod));
  } else {
    lab.attachments().del(lab.request("DEL", pod));
  }
}

TableRequest node_table() { return {"table", 10000, 59999, AllocScope::Node, AllocPick::Spread}; }

}  // namespace

TEST_CASE("ADD reserves its table in a file naming the attachment; DEL releases it") {
  ConformanceLab lab(2);
  run(lab, "ADD", 0);
  run(lab, "ADD", 1);
  uint32_t t0 = journaled_table(lab, 0), t1 = journaled_table(lab, 1);
  CHECK(t0 != t1);
  CHECK(reservation_owner(lab, t0) == "cni0/c0ffee0/eth0/veth-to-host");
  CHECK(reservation_owner(lab, t1) == "cni0/c0ffee1/eth0/veth-to-host");
  run(lab, "ADD", 0);  // a repeated ADD keeps its table and its reservation
  CHECK(journaled_table(lab, 0) == t0);
  CHECK(reservation_count(lab) == 2);
  run(lab, "DEL", 0);
  CHECK_FALSE(fs::exists(lab.state_dir + "/.tables/" + std::to_string(t0)));
  CHECK(reservation_owner(lab, t1) == "cni0/c0ffee1/eth0/veth-to-host");
  run(lab, "DEL", 1);
  CHECK(reservation_count(lab) == 0);
}

TEST_CASE("a failed ADD releases the table it reserved") {
  ConformanceLab lab;
  lab.pods[0]->ip("link add veth0 type veth peer name other0");  // the pod's end cannot be created
  {
    NetnsGuard in_node(lab.node.path());
    CHECK_THROWS(lab.attachments().add(lab.request("ADD")));
  }
  CHECK(reservation_count(lab) == 0);
}

TEST_CASE("a table reserved by a live attachment is skipped; a reservation whose attachment has no journal is "
          "reclaimed") {
  ConformanceLab lab;
  Journal journal(lab.state_dir);
  Attachment me{"cni0", "c0ffee0", "eth0"}, other{"cni0", "other", "eth0"}, gone{"cni0", "gone", "eth0"};
  uint32_t start;
  {
    TableAllocator probe(journal, nullptr, me, json(), TableAllocator::Mode::Preview);
    start = probe.tables(node_table(), 1).at(0);  // the hash-chosen start on an empty node
  }
  JournalRecord live;
  live.attachment = other;
  journal.store(live);
  TableReservations(journal).reserve(start, other);
  TableAllocator allocator(journal, nullptr, me, json());
  uint32_t picked = allocator.tables(node_table(), 1).at(0);
  CHECK(picked == start + 1);
  CHECK(reservation_owner(lab, start) == "cni0/other/eth0");

  // `gone` reserved the table and then vanished without its DEL (no journal): the table is free again.
  TableReservations(journal).release(other, {start});
  TableReservations(journal).reserve(start, gone);
  TableAllocator again(journal, nullptr, me, json());
  CHECK(again.tables(node_table(), 1).at(0) == start);
  CHECK(reservation_owner(lab, start) == "cni0/c0ffee0/eth0");
}

TEST_CASE("the first reservation on a node adopts the tables of journals written before reservations existed") {
  ConformanceLab lab(2);
  run(lab, "ADD", 0);
  uint32_t t0 = journaled_table(lab, 0);
  fs::remove_all(lab.state_dir + "/.tables");  // as an older topocni would have left the node
  Journal journal(lab.state_dir);
  // Pod 1 starts probing exactly at pod 0's table: without adoption it would take it.
  TableRequest request{"table", t0, t0 + 1, AllocScope::Node, AllocPick::Lowest};
  TableAllocator allocator(journal, nullptr, {"cni0", "c0ffee1", "eth0"}, json());
  CHECK(allocator.tables(request, 1).at(0) == t0 + 1);
  CHECK(reservation_owner(lab, t0) == "cni0/c0ffee0/eth0/veth-to-host");
}

TEST_CASE("container scope: the lowest tables no rule in the pod points to, one per item, nothing reserved") {
  ConformanceLab lab;
  lab.pods[0]->ip("rule add pref 500 from 10.10.20.99 lookup 100");
  lab.pods[0]->ip("-6 rule add pref 500 from fd00::99 lookup 102");
  Journal journal(lab.state_dir);
  Kernel kernel(ScopeMap{{kHostScope, lab.node.path()}, {kContainerScope, lab.pods[0]->path()}});
  TableAllocator allocator(journal, &kernel, {"cni0", "c0ffee0", "eth0"}, json());
  TableRequest request{"tables", 100, 252, AllocScope::Container, AllocPick::Lowest};
  CHECK(allocator.tables(request, 3) == std::vector<uint32_t>{101, 103, 104});
  // A second allocation in the same render does not hand out the same tables again.
  CHECK(allocator.tables(request, 1) == std::vector<uint32_t>{105});
  CHECK(reservation_count(lab) == 0);
  // The node's own rules do not matter to a container-scope allocation.
  lab.node.ip("rule add pref 500 from 10.10.20.98 lookup 106");
  TableAllocator fresh(journal, &kernel, {"cni0", "c0ffee0", "eth0"}, json());
  CHECK(fresh.tables(request, 1) == std::vector<uint32_t>{101});
}

TEST_CASE("journaled tables are kept by a repeated ADD, also for a per-item allocation whose list grew") {
  ConformanceLab lab;
  Journal journal(lab.state_dir);
  Kernel kernel(ScopeMap{{kHostScope, lab.node.path()}, {kContainerScope, lab.pods[0]->path()}});
  TableAllocator allocator(journal, &kernel, {"cni0", "c0ffee0", "eth0"}, json{{"tables", {120, 110}}});
  TableRequest request{"tables", 100, 252, AllocScope::Container, AllocPick::Lowest};
  CHECK(allocator.tables(request, 3) == std::vector<uint32_t>{120, 110, 100});
}
