// The journal read strictly (topo/journal_format.h): a damaged journal is reported with the JSON path of
// each problem and never read as an empty record; a newer format is refused; format 1 (no "format" key, as
// the release before formats wrote it) is read.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "topo/journal.h"
#include "topo/journal_format.h"
#include "topo/model/json.h"
#include "topo/state_dir.h"
#include "temp_dir.h"

using namespace topo;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// What veth-to-host journals: a veth pair, routes (one in a policy table), a rule, a sysctl with its value
// before ADD, and the node's default route a takeover replaced.
JournalRecord sample() {
  JournalRecord r;
  r.attachment = {"cni0", "abc", "eth0"};
  r.template_name = "veth-to-host";
  r.netns = "/var/run/netns/p1";
  r.netns_identity = "4:4026532000";
  r.allocations = {{"table", 1000}};
  r.prev_result = {{"cniVersion", "1.0.0"}};
  Link veth;
  veth.scope = "host";
  veth.name = "veth1234";
  veth.peer_scope = "container";
  veth.peer_name = "veth0";
  veth.alias = "topocni:cni0/abc/eth0";
  r.state.of<Link>().push_back(veth);
  for (const char* dst : {"10.1.0.5/32", "10.1.0.6/32", "0.0.0.0/0"}) {
    Route route;
    route.scope = "host";
    route.dst = *IpPrefix::parse(dst);
    route.dev = "veth1234";
    route.table = std::string(dst) == "0.0.0.0/0" ? 1000 : kTableMain;
    r.state.of<Route>().push_back(route);
  }
  Rule rule;
  rule.scope = "host";
  rule.priority = 1000;
  rule.table = 1000;
  rule.iif = "veth1234";
  r.state.of<Rule>().push_back(rule);
  Sysctl s;
  s.scope = "container";
  s.name = "net.ipv4.conf.eth0.rp_filter";
  s.value = "2";
  s.previous = "1";
  r.state.of<Sysctl>().push_back(s);
  Route original;
  original.scope = "container";
  original.dst = *IpPrefix::parse("0.0.0.0/0");
  original.gateway = IpAddress::parse("192.168.1.1");
  original.dev = "eth0";
  original.protocol = 4;
  r.taken_over.of<Route>().push_back(original);
  return r;
}

JournalParse parse(const json& j) { return parse_journal_record(j.dump(), "/run/topocni/cni0/abc-eth0.json"); }

bool has_problem(const JournalParse& p, const std::string& text) {
  return std::any_of(p.problems.begin(), p.problems.end(), [&](const std::string& s) { return s == text; });
}

std::string problems_of(const JournalParse& p) {
  std::string s;
  for (const auto& x : p.problems) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("a journal reads back exactly as written, with its format") {
  json written = journal_record_to_json(sample());
  CHECK(written.at("format") == kJournalFormat);
  JournalParse p = parse(written);
  INFO(problems_of(p));
  CHECK_FALSE(p.damaged());
  CHECK(p.attachment_known);
  CHECK(journal_record_to_json(p.record) == written);
}

TEST_CASE("format 1 (no format key, the release before formats) is read") {
  json old = journal_record_to_json(sample());
  old.erase("format");
  old.erase("netnsIdentity");  // older still: before the identity was recorded
  JournalParse p = parse(old);
  INFO(problems_of(p));
  CHECK_FALSE(p.damaged());
  CHECK(p.record.state.of<Route>().size() == 3);
  CHECK(p.record.taken_over.of<Route>().size() == 1);
}

TEST_CASE("a newer format is refused, naming what it found and what is known") {
  json newer = journal_record_to_json(sample());
  newer["format"] = kJournalFormat + 1;
  newer["state"] = "whatever a newer topocni writes";
  try {
    (void)parse(newer);
    FAIL("no JournalFormatError");
  } catch (const JournalFormatError& e) {
    CHECK(e.found == static_cast<unsigned long long>(kJournalFormat + 1));
    CHECK(std::string(e.what()).find("format 5") != std::string::npos);
    CHECK(std::string(e.what()).find("formats 1 to 4") != std::string::npos);
    CHECK(std::string(e.what()).find("abc-eth0.json") != std::string::npos);
  }
  newer["format"] = 18446744073709551615ULL;
  CHECK_THROWS_AS((void)parse(newer), JournalFormatError);
}

TEST_CASE("wrong types, missing keys and unknown kinds are problems at their JSON path, and the rest is read") {
  SUBCASE("state of the wrong type: the takeover is still read") {
    json j = journal_record_to_json(sample());
    j["state"] = "x";
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(has_problem(p, "state: expected an object, found a string"));
    CHECK(p.record.state.empty());
    CHECK(p.record.taken_over.of<Route>().size() == 1);
  }
  SUBCASE("no state") {
    json j = journal_record_to_json(sample());
    j.erase("state");
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(has_problem(p, "state: missing"));
    CHECK(p.record.taken_over.of<Route>().size() == 1);
  }
  SUBCASE("one route's table a string: the other routes, the rule and the sysctl are kept") {
    json j = journal_record_to_json(sample());
    j["state"]["routes"][2]["table"] = "x";
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(p.problems.size() == 1);
    CHECK(has_problem(p, "state.routes[2].table: expected a number, found a string"));
    CHECK(p.record.state.of<Route>().size() == 2);
    CHECK(p.record.state.of<Rule>().size() == 1);
    REQUIRE(p.record.state.of<Sysctl>().size() == 1);
    CHECK(p.record.state.of<Sysctl>()[0].previous == "1");
  }
  SUBCASE("a route without its destination") {
    json j = journal_record_to_json(sample());
    j["state"]["routes"][0].erase("dst");
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(has_problem(p, "state.routes[0].dst: missing"));
  }
  SUBCASE("a value that does not read back: a misspelt link kind") {
    json j = journal_record_to_json(sample());
    j["state"]["links"][0]["kind"] = "vteh";
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(has_problem(p, "state.links[0].kind: invalid value \"vteh\""));
  }
  // A float or an out-of-range number for an integer field is named, never cast: casting 9.1e31 to a
  // uint32_t is undefined behaviour (fuzz_journal found it), and -1 would wrap to a real table.
  SUBCASE("numbers that are not the field's integers: fractional, huge, negative") {
    json j = journal_record_to_json(sample());
    j["state"]["rules"][0]["priority"] = 1000.5;
    j["state"]["routes"][0]["table"] = 9.1e31;
    j["state"]["routes"][1]["table"] = -1;
    j["state"]["routes"][2]["table"] = 4294967296ULL;
    j["takenOver"]["addresses"] = json::array(
        {{{"namespace", "container"}, {"dev", "eth0"}, {"address", "10.1.0.5/24"}, {"flags", 5.2e33}}});
    JournalParse p = parse(j);
    INFO(problems_of(p));
    const char* range = "expected an integer from 0 to 4294967295, found ";
    CHECK(has_problem(p, std::string("state.rules[0].priority: ") + range + "1000.5"));
    CHECK(has_problem(p, std::string("state.routes[0].table: ") + range + "9.1e+31"));
    CHECK(has_problem(p, std::string("state.routes[1].table: ") + range + "-1"));
    CHECK(has_problem(p, std::string("state.routes[2].table: ") + range + "4294967296"));
    CHECK(has_problem(p, std::string("takenOver.addresses[0].flags: ") + range + "5.2e+33"));
    CHECK(p.problems.size() == 5);
  }
  SUBCASE("a nested key of the wrong type") {
    json j = journal_record_to_json(sample());
    j["state"]["links"][0]["peer"]["name"] = 7;
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(has_problem(p, "state.links[0].peer.name: expected a string, found a number"));
  }
  SUBCASE("unknown object kinds and keys") {
    json j = journal_record_to_json(sample());
    j["state"]["widgets"] = json::array();
    j["takenOver"]["routes"][0]["colour"] = "blue";
    j["extra"] = 1;
    JournalParse p = parse(j);
    INFO(problems_of(p));
    CHECK(has_problem(p, "state.widgets: unknown object kind"));
    CHECK(has_problem(p, "takenOver.routes[0].colour: unexpected key (value \"blue\")"));
    CHECK(has_problem(p, "extra: unexpected key"));
    CHECK(p.record.state.of<Route>().size() == 3);
  }
  SUBCASE("names of the wrong type: the attachment is not known") {
    json j = journal_record_to_json(sample());
    j["containerId"] = 5;
    JournalParse p = parse(j);
    CHECK(has_problem(p, "containerId: expected a string, found a number"));
    CHECK_FALSE(p.attachment_known);
  }
  SUBCASE("a format that is not a number") {
    json j = journal_record_to_json(sample());
    j["format"] = "2";
    CHECK(has_problem(parse(j), "format: expected an integer, found a string"));
  }
  SUBCASE("not JSON, or too deep") {
    CHECK(parse_journal_record("{\"state\": ", "f").damaged());
    CHECK(parse_journal_record("[]", "f").damaged());
    CHECK(parse_journal_record(std::string(100000, '[') + std::string(100000, ']'), "f").damaged());
  }
}

TEST_CASE("Journal: a damaged file is an error naming it, listed as damaged, and set aside on request") {
  test::TempDir dir{"topo-journal-format"};
  Journal journal(dir.path.string());
  JournalRecord r = sample();
  journal.store(r);
  std::string path = journal.path_of_attachment(r.attachment);
  json j = json::parse(std::ifstream(path));
  j["state"] = "x";
  std::ofstream(path, std::ios::trunc) << j.dump();
  try {
    (void)journal.load(r.attachment);
    FAIL("no JournalDamagedError");
  } catch (const JournalDamagedError& e) {
    CHECK(e.file == path);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(std::string(e.what()).find("state: expected an object, found a string") != std::string::npos);
    CHECK(e.record.attachment.id() == r.attachment.id());
    CHECK(e.record.taken_over.of<Route>().size() == 1);
  }
  Journal::Listing listing = journal.list();
  CHECK(listing.records.empty());
  REQUIRE(listing.damaged.size() == 1);
  CHECK(listing.damaged[0].attachment_known);
  CHECK(journal.all().empty());
  std::string aside = journal.set_aside(path);
  CHECK(aside == path + ".damaged");
  CHECK_FALSE(fs::exists(path));
  struct stat st{};
  REQUIRE(::stat(aside.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(journal.load(r.attachment).has_value());  // the next ADD is not blocked
  CHECK_THROWS_AS(journal.set_aside(dir.path.string() + "/../x.json"), StateDirError);
}

TEST_CASE("Journal: a newer format is refused by load and by list") {
  test::TempDir dir{"topo-journal-format"};
  Journal journal(dir.path.string());
  JournalRecord r = sample();
  journal.store(r);
  std::string path = journal.path_of_attachment(r.attachment);
  json j = json::parse(std::ifstream(path));
  CHECK(j.at("format") == kJournalFormat);
  j["format"] = kJournalFormat + 1;
  std::ofstream(path, std::ios::trunc) << j.dump();
  CHECK_THROWS_AS((void)journal.load(r.attachment), JournalFormatError);
  CHECK_THROWS_AS((void)journal.list(), JournalFormatError);
  CHECK(fs::exists(path));
}

// Format 4: an attachment names its conflist entry (topo/journal.h), so two templates chained for one pod
// interface have a journal each.
JournalRecord plugin_sample(const std::string& tmpl) {
  JournalRecord r = sample();
  r.attachment.plugin = tmpl;
  r.template_name = tmpl;
  return r;
}

TEST_CASE("format 4: the plugin is part of the identity, the file name and the marks") {
  JournalRecord r = plugin_sample("veth-to-host");
  json written = journal_record_to_json(r);
  CHECK(written.at("format") == 4);
  CHECK(written.at("plugin") == "veth-to-host");
  JournalParse p = parse(written);
  INFO(problems_of(p));
  CHECK_FALSE(p.damaged());
  CHECK(p.record.attachment.id() == "cni0/abc/eth0/veth-to-host");
  CHECK(p.record.attachment.interface_id() == "cni0/abc/eth0");
  CHECK(journal_record_to_json(p.record) == written);
  // Without a plugin (a pod interface's journal from before format 4, re-ADDed; a topology): no key at all.
  CHECK_FALSE(journal_record_to_json(sample()).contains("plugin"));

  test::TempDir dir{"topo-journal-format"};
  Journal journal(dir.path.string());
  CHECK(journal.path_of_attachment(r.attachment) == dir.path.string() + "/cni0/abc-eth0@veth-to-host.json");
  CHECK(journal.path_of_attachment(sample().attachment) == dir.path.string() + "/cni0/abc-eth0.json");
  std::string long_name(200, 't');
  std::string long_path = journal.path_of_attachment(plugin_sample(long_name).attachment);
  CHECK(fs::path(long_path).filename().string().size() < 120);
  CHECK(long_path != journal.path_of_attachment(plugin_sample(long_name + "u").attachment));

  // Marks: the plugin is in the owner, which stays within 100 characters (nft comments hold 128 bytes).
  CHECK(owner_mark(r.attachment).owner == "cni0/abc/eth0/veth-to-host");
  CHECK(owner_mark(sample().attachment).owner == "cni0/abc/eth0");
  Attachment big{std::string(60, 'n'), std::string(200, 'c'), "eth0", long_name};
  Attachment big2 = big;
  big2.plugin = long_name + "u";
  CHECK(owner_mark(big).owner.size() <= 100);
  CHECK(owner_mark(big).owner != owner_mark(big2).owner);
  Attachment big3 = big;
  big3.plugin = "macvlan";
  CHECK(owner_mark(big3).owner.ends_with("/eth0/macvlan"));
}

TEST_CASE("format 4: a plugin that is not the template, an empty one, or one in an older format is damage") {
  json j = journal_record_to_json(plugin_sample("veth-to-host"));
  SUBCASE("another template") {
    j["template"] = "macvlan";
    CHECK(has_problem(parse(j), "plugin: 'veth-to-host' is not the journal's template 'macvlan'"));
  }
  SUBCASE("empty") {
    j["plugin"] = "";
    JournalParse p = parse(j);
    CHECK(p.damaged());
    CHECK_FALSE(p.attachment_known);
  }
  SUBCASE("format 3 had no plugin") {
    j["format"] = 3;
    CHECK(has_problem(parse(j), "plugin: unexpected key in a format-3 journal"));
  }
  SUBCASE("not a string") {
    j["plugin"] = 4;
    CHECK(has_problem(parse(j), "plugin: expected a string, found a number"));
  }
}

TEST_CASE("Journal::resolve: a pod interface's journal from before format 4 stays its template's") {
  test::TempDir dir{"topo-journal-format"};
  Journal journal(dir.path.string());
  Attachment vth{"cni0", "abc", "eth0", "veth-to-host"}, mvl{"cni0", "abc", "eth0", "macvlan"};
  // No journal at all: the request's own identity.
  CHECK(journal.resolve(vth).id() == vth.id());
  // The old journal (format 3, at <cid>-<ifname>.json) of veth-to-host: veth-to-host's requests act on it;
  // the macvlan template's do not (it had none).
  JournalRecord old = sample();
  journal.store(old);
  std::string old_path = journal.path_of_attachment(old.attachment);
  json j = json::parse(std::ifstream(old_path));
  j["format"] = 3;
  std::ofstream(old_path, std::ios::trunc) << j.dump();
  CHECK(journal.resolve(vth).id() == "cni0/abc/eth0");
  CHECK(journal.resolve(mvl).id() == mvl.id());
  REQUIRE(journal.load(journal.resolve(vth)).has_value());
  // A topology or an old identity is what it is.
  CHECK(journal.resolve(old.attachment).id() == "cni0/abc/eth0");
  // Both kinds listed side by side, each where its names put it.
  journal.store(plugin_sample("macvlan"));
  Journal::Listing listing = journal.list();
  CHECK(listing.damaged.empty());
  std::vector<std::string> ids;
  for (const auto& r : listing.records) ids.push_back(r.attachment.id());
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"cni0/abc/eth0", "cni0/abc/eth0/macvlan"});
  // Once the request's own journal exists, it wins.
  journal.store(plugin_sample("veth-to-host"));
  CHECK(journal.resolve(vth).id() == vth.id());
  journal.remove(vth);
  // A damaged old journal whose template cannot be read: the pod interface's only one before format 4.
  j.erase("template");
  std::ofstream(old_path, std::ios::trunc) << j.dump();
  CHECK(journal.resolve(mvl).id() == mvl.id());  // macvlan's own journal exists
  CHECK(journal.resolve(vth).id() == "cni0/abc/eth0");
  // A newer format is refused as load() refuses it.
  j["format"] = kJournalFormat + 1;
  std::ofstream(old_path, std::ios::trunc) << j.dump();
  CHECK_THROWS_AS((void)journal.resolve(vth), JournalFormatError);
}

TEST_CASE("Journal::siblings: the other entries of one pod interface, by one readdir") {
  test::TempDir dir{"topo-journal-format"};
  Journal journal(dir.path.string());
  journal.store(plugin_sample("macvlan"));
  journal.store(plugin_sample("veth-to-host"));
  journal.store(sample());  // the pod interface's journal from before format 4: no entry of a chain
  JournalRecord other_pod = plugin_sample("macvlan");
  other_pod.attachment.container_id = "abd";
  journal.store(other_pod);
  JournalRecord other_if = plugin_sample("macvlan");
  other_if.attachment.ifname = "net1";
  journal.store(other_if);
  auto ids = [](const std::vector<JournalRecord>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.attachment.id());
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(ids(journal.siblings(plugin_sample("veth-to-host").attachment)) == std::vector<std::string>{"cni0/abc/eth0/macvlan"});
  CHECK(ids(journal.siblings(plugin_sample("sbr").attachment)) ==
        std::vector<std::string>{"cni0/abc/eth0/macvlan", "cni0/abc/eth0/veth-to-host"});
  // A damaged sibling is skipped (its own DEL deals with it).
  std::string path = journal.path_of_attachment(plugin_sample("macvlan").attachment);
  std::ofstream(path, std::ios::trunc) << "{";
  CHECK(journal.siblings(plugin_sample("veth-to-host").attachment).empty());
}
