// table inet topocni against the real kernel, in throwaway network namespaces (never the machine's own).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kernel/nft/context.h"
#include "kernel/nft/nat_table.h"
#include "kernel/nft/table_lock.h"
#include "netns_fixture.h"
#include "topo/state_dir.h"
#include "topo/error.h"
#include "topo/netns.h"

namespace {

using topo::Action;
using topo::Change;
using topo::Family;
using topo::IpAddress;
using topo::IpPrefix;
using topo::NatAction;
using topo::NatEntry;

// A named netns (`ip netns add`), entered for the object's lifetime and deleted by the destructor, also when
// a CHECK or an exception fails the test.
class TempNetns {
 public:
  TempNetns() : name_("topo-nft-" + std::to_string(getpid()) + "-" + std::to_string(counter_++)) {
    REQUIRE(std::system(("ip netns add " + name_).c_str()) == 0);
    guard_ = std::make_unique<topo::NetnsGuard>("/run/netns/" + name_);
  }
  ~TempNetns() {
    guard_.reset();  // leave before deleting
    std::system(("ip netns del " + name_ + " 2>/dev/null").c_str());
  }

 private:
  static inline std::atomic<int> counter_{0};
  std::string name_;
  std::unique_ptr<topo::NetnsGuard> guard_;
};

// The nft CLI for the test's own setup and checks (foreign tables, full listings), in the current netns: a
// child forked by this thread starts in the namespace the thread has entered.
std::string nft(const std::string& script) {
  char path[] = "/tmp/topo-nft-test-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  close(fd);
  int status = 0;
  std::string out = topo::test::sh(std::string("nft -f ") + path + " 2>&1", &status);
  unlink(path);
  if (status != 0) throw std::runtime_error("nft failed: " + out + "\n" + script);
  return out;
}

bool our_table_exists() { return nft("list tables").find("table inet topocni") != std::string::npos; }

NatEntry entry(Family f, NatAction a, const std::string& owner) {
  NatEntry e;
  e.scope = "host";
  e.family = f;
  e.action = a;
  e.owner = owner;
  return e;
}

Change change(Action a, const NatEntry& e) { return Change{a, e, std::nullopt}; }

std::vector<Change> all(Action a, const std::vector<NatEntry>& entries) {
  std::vector<Change> out;
  for (const auto& e : entries) out.push_back(change(a, e));
  return out;
}

std::vector<NatEntry> sorted(std::vector<NatEntry> v) {
  std::sort(v.begin(), v.end(), [](const NatEntry& a, const NatEntry& b) { return a.key() < b.key(); });
  return v;
}

std::vector<NatEntry> observe(std::set<std::string> owners) {
  return sorted(topo::nft::observe("host", owners));
}

// Every form rule_text() writes, for one family.
std::vector<NatEntry> every_form(Family f, const std::string& owner) {
  const bool v4 = f == Family::V4;
  auto pfx = [](const char* s) { return *IpPrefix::parse(s); };
  auto addr = [](const char* s) { return *IpAddress::parse(s); };
  std::vector<NatEntry> out;

  NatEntry bare = entry(f, NatAction::Masquerade, owner);  // nfproto only
  out.push_back(bare);

  NatEntry ifs = entry(f, NatAction::Masquerade, owner);  // nfproto + interfaces
  ifs.iif = "veth-a";
  ifs.oif = "eth0";
  ifs.oif_not = true;
  out.push_back(ifs);

  NatEntry prefixes = entry(f, NatAction::Masquerade, owner);
  prefixes.saddr = v4 ? pfx("10.1.0.0/16") : pfx("fd00:1::/64");
  prefixes.daddr = v4 ? pfx("10.1.0.0/16") : pfx("fd00:1::/64");
  prefixes.daddr_not = true;
  prefixes.iif = "veth-b";
  prefixes.iif_not = true;
  out.push_back(prefixes);

  NatEntry everything = entry(f, NatAction::Masquerade, owner);
  everything.saddr = v4 ? pfx("0.0.0.0/0") : pfx("::/0");
  everything.saddr_not = true;
  out.push_back(everything);

  NatEntry snat = entry(f, NatAction::Snat, owner);
  snat.saddr = v4 ? pfx("10.2.0.7/32") : pfx("fd00:2::7/128");
  snat.oif = "eth0";
  snat.to = v4 ? addr("192.0.2.1") : addr("2001:db8::1");
  out.push_back(snat);

  NatEntry snat_only = entry(f, NatAction::Snat, owner);
  snat_only.to = v4 ? addr("192.0.2.2") : addr("2001:db8::2");
  out.push_back(snat_only);

  NatEntry dnat = entry(f, NatAction::Dnat, owner);
  dnat.daddr = v4 ? pfx("192.0.2.10") : pfx("2001:db8::10");
  dnat.iif = "eth0";
  dnat.saddr = v4 ? pfx("198.51.100.0/24") : pfx("2001:db8:100::/48");
  dnat.saddr_not = true;
  dnat.to = v4 ? addr("10.2.0.10") : addr("fd00:2::10");
  out.push_back(dnat);
  return out;
}

void install_foreign_tables() {
  nft(R"(add table ip kube
add chain ip kube pre { type nat hook prerouting priority dstnat; }
add rule ip kube pre ip daddr 10.96.0.1 tcp dport 443 dnat to 10.0.0.9:6443
add table inet filter
add chain inet filter forward { type filter hook forward priority filter; }
add rule inet filter forward ct state established accept
)");
}

// One table per nft run: nft 1.0.6 fills its cache for the first listed table only, so a second `list table`
// in the same input fails with ENOENT.
std::string foreign_tables() { return nft("list table ip kube") + nft("list table inet filter"); }

}  // namespace

TEST_CASE("every form round-trips through the kernel, V4 and V6, and DEL leaves no table") {
  TempNetns ns;
  const std::string initial = nft("list ruleset");
  CHECK(topo::nft::observe("host", {"o1"}).empty());  // no table is no rules, not an error

  std::vector<NatEntry> entries = every_form(Family::V4, "o1");
  for (auto& e : every_form(Family::V6, "o1")) entries.push_back(e);
  topo::nft::apply(all(Action::Create, entries));

  CHECK(observe({"o1"}) == sorted(entries));
  CHECK(observe({"o2"}).empty());

  topo::nft::apply(all(Action::Delete, entries));
  CHECK(observe({"o1"}).empty());
  CHECK_FALSE(our_table_exists());
  CHECK(nft("list ruleset") == initial);
}

TEST_CASE("two owners coexist; deleting one's rules leaves the other's and no empty chain") {
  TempNetns ns;
  NatEntry a_masq = entry(Family::V4, NatAction::Masquerade, "a");
  a_masq.saddr = IpPrefix::parse("10.0.0.0/24");
  NatEntry a_dnat = entry(Family::V4, NatAction::Dnat, "a");
  a_dnat.daddr = IpPrefix::parse("192.0.2.1");
  a_dnat.to = IpAddress::parse("10.0.0.2");
  NatEntry b_masq = entry(Family::V6, NatAction::Masquerade, "b");
  b_masq.saddr = IpPrefix::parse("fd00::/64");

  topo::nft::apply({change(Action::Create, a_masq), change(Action::Create, a_dnat)});
  topo::nft::apply({change(Action::Create, b_masq)});
  CHECK(observe({"a"}) == sorted({a_masq, a_dnat}));
  CHECK(observe({"b"}) == std::vector<NatEntry>{b_masq});
  CHECK(observe({"a", "b"}).size() == 3);

  topo::nft::apply({change(Action::Delete, a_masq), change(Action::Delete, a_dnat)});
  CHECK(observe({"a"}).empty());
  CHECK(observe({"b"}) == std::vector<NatEntry>{b_masq});
  // a's dnat was the only rule in prerouting: the chain goes with it.
  const std::string table = nft("list table inet topocni");
  CHECK(table.find("chain prerouting") == std::string::npos);
  CHECK(table.find("chain postrouting") != std::string::npos);

  topo::nft::apply({change(Action::Delete, b_masq)});
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("replace swaps one rule for another in one transaction") {
  TempNetns ns;
  NatEntry before = entry(Family::V4, NatAction::Snat, "o1");
  before.saddr = IpPrefix::parse("10.0.0.0/24");
  before.to = IpAddress::parse("192.0.2.1");
  NatEntry after = before;
  after.to = IpAddress::parse("192.0.2.2");

  topo::nft::apply({change(Action::Create, before)});
  topo::nft::apply({Change{Action::Replace, after, before}});
  CHECK(observe({"o1"}) == std::vector<NatEntry>{after});
}

TEST_CASE("deletes are idempotent: a rule already gone is not an error") {
  TempNetns ns;
  NatEntry e = entry(Family::V4, NatAction::Masquerade, "o1");
  topo::nft::apply({change(Action::Delete, e)});  // no table at all
  CHECK_FALSE(our_table_exists());
  topo::nft::apply({change(Action::Create, e)});
  topo::nft::apply({change(Action::Delete, e)});
  topo::nft::apply({change(Action::Delete, e)});
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("identical rules pair up with identical deletes one by one") {
  TempNetns ns;
  NatEntry e = entry(Family::V4, NatAction::Masquerade, "o1");
  topo::nft::apply({change(Action::Create, e), change(Action::Create, e)});
  CHECK(observe({"o1"}).size() == 2);
  topo::nft::apply({change(Action::Delete, e)});
  CHECK(observe({"o1"}) == std::vector<NatEntry>{e});
  topo::nft::apply({change(Action::Delete, e)});
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("foreign tables survive every operation") {
  TempNetns ns;
  install_foreign_tables();
  const std::string before = foreign_tables();

  std::vector<NatEntry> entries = every_form(Family::V4, "o1");
  topo::nft::apply(all(Action::Create, entries));
  CHECK(foreign_tables() == before);
  CHECK(observe({"o1"}) == sorted(entries));
  topo::nft::apply({Change{Action::Replace, entries[1], entries[0]}});
  CHECK(foreign_tables() == before);
  topo::nft::apply(all(Action::Delete, observe({"o1"})));
  CHECK_FALSE(our_table_exists());
  CHECK(foreign_tables() == before);
}

TEST_CASE("an entry that cannot be encoded fails before anything is sent, naming the rule") {
  TempNetns ns;
  NatEntry kept = entry(Family::V4, NatAction::Masquerade, "o1");
  kept.saddr = IpPrefix::parse("10.0.0.0/24");
  topo::nft::apply({change(Action::Create, kept)});
  const std::string before = nft("list ruleset");

  NatEntry good = entry(Family::V4, NatAction::Masquerade, "o2");
  NatEntry long_name = entry(Family::V4, NatAction::Masquerade, "o2");
  long_name.oif = "0123456789abcdefg";  // IFNAMSIZ is 16 with the NUL
  std::string what;
  try {
    topo::nft::apply(
        {change(Action::Delete, kept), change(Action::Create, good), change(Action::Create, long_name)});
  } catch (const topo::SystemError& e) {
    what = e.what();
  }
  CHECK(what.find("exceeds maximum length") != std::string::npos);
  CHECK(nft("list ruleset") == before);

  NatEntry bad_target = entry(Family::V4, NatAction::Dnat, "o2");
  bad_target.to = IpAddress::parse("fd00::1");  // an IPv6 target for an ip dnat
  what.clear();
  try {
    topo::nft::apply({change(Action::Delete, kept), change(Action::Create, bad_target)});
  } catch (const topo::SystemError& e) {
    what = e.what();
  }
  CHECK(what.find("dnat ip to fd00::1") != std::string::npos);  // the rule, in nft syntax
  CHECK(nft("list ruleset") == before);
  CHECK(observe({"o1"}) == std::vector<NatEntry>{kept});
}

TEST_CASE("a chain of our name defined otherwise is a conflict before anything is sent") {
  // Issue 12: a rule appended to an unhooked chain never runs, yet ADD said success. Someone made our
  // postrouting chain a filter chain here, or a regular chain: nothing is sent, not even the delete.
  for (const char* def : {"{ type filter hook postrouting priority srcnat; }", ""}) {
    CAPTURE(def);
    TempNetns ns;
    nft(std::string("add table inet topocni\nadd chain inet topocni postrouting ") + def + R"(
add chain inet topocni prerouting { type nat hook prerouting priority dstnat; }
add rule inet topocni prerouting ip daddr 192.0.2.1 dnat ip to 10.0.0.1 comment "topocni:o1"
)");
    const std::string before = nft("list ruleset");
    NatEntry dnat = entry(Family::V4, NatAction::Dnat, "o1");
    dnat.daddr = IpPrefix::parse("192.0.2.1");
    dnat.to = IpAddress::parse("10.0.0.1");
    REQUIRE(observe({"o1"}) == std::vector<NatEntry>{dnat});
    NatEntry masq = entry(Family::V4, NatAction::Masquerade, "o1");
    masq.oif = "eth0";
    std::string what;
    try {
      topo::nft::apply({change(Action::Delete, dnat), change(Action::Create, masq)});
    } catch (const topo::ConflictError& e) {
      what = e.what();
    }
    CAPTURE(what);
    CHECK(what.find("chain inet topocni postrouting exists and is not topocni's") != std::string::npos);
    CHECK(what.find(*def ? "type filter hook postrouting priority 100" : "a regular chain without a hook") !=
          std::string::npos);
    CHECK(nft("list ruleset") == before);
  }
}

TEST_CASE("a table or chain topocni did not make is never deleted, even when its last rule of ours goes") {
  TempNetns ns;
  // Someone else's table, its chain hooked as ours: our rule may go there, but the table and chain stay.
  nft(R"(add table inet topocni { comment "the admin's"; }
add chain inet topocni postrouting { type nat hook postrouting priority srcnat; }
)");
  const std::string before = nft("list ruleset");
  NatEntry masq = entry(Family::V4, NatAction::Masquerade, "o1");
  masq.oif = "eth0";
  NatEntry dnat = entry(Family::V4, NatAction::Dnat, "o1");
  dnat.daddr = IpPrefix::parse("192.0.2.1");
  dnat.to = IpAddress::parse("10.0.0.1");
  topo::nft::apply({change(Action::Create, masq), change(Action::Create, dnat)});
  CHECK(sorted(observe({"o1"})) == sorted({masq, dnat}));
  // The prerouting chain was ours to make: it carries our comment, and goes with our last rule.
  CHECK(nft("list chain inet topocni prerouting").find("comment \"managed by topocni\"") !=
        std::string::npos);
  topo::nft::apply({change(Action::Delete, masq), change(Action::Delete, dnat)});
  CHECK(nft("list ruleset") == before);

  // Our own table goes with its last rule, as it always did.
  nft("delete table inet topocni");
  topo::nft::apply({change(Action::Create, masq)});
  CHECK(nft("list table inet topocni").find("comment \"managed by topocni\"") != std::string::npos);
  topo::nft::apply({change(Action::Delete, masq)});
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("a rule with our comment that is not ours in shape is reported undecodable and can be deleted") {
  TempNetns ns;
  nft(R"(add table inet topocni
add chain inet topocni postrouting { type nat hook postrouting priority srcnat; }
add rule inet topocni postrouting tcp dport 80 masquerade comment "topocni:o1"
add rule inet topocni postrouting masquerade comment "topocni:o1"
)");
  std::vector<NatEntry> seen = observe({"o1"});
  REQUIRE(seen.size() == 2);
  for (const NatEntry& e : seen) {
    CHECK(e.iif.starts_with("?"));
    CHECK(e.owner == "o1");
    CHECK(e.scope == "host");
  }
  NatEntry v4 = entry(Family::V4, NatAction::Masquerade, "o1");
  CHECK(seen[0] != v4);  // a family-less masquerade never passes for the V4 one
  CHECK(seen[1] != v4);

  topo::nft::apply(all(Action::Delete, seen));
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("what apply() creates is listed by nft exactly as rule_text() says") {
  TempNetns ns;
  std::vector<NatEntry> entries = every_form(Family::V4, "o1");
  for (auto& e : every_form(Family::V6, "o1")) entries.push_back(e);
  topo::nft::apply(all(Action::Create, entries));
  std::multiset<std::string> listed, expected;
  for (const NatEntry& e : entries) expected.insert(topo::nft::rule_text(e));
  const std::string table = nft("list table inet topocni");
  size_t at = 0;
  while (at < table.size()) {
    size_t end = table.find('\n', at);
    if (end == std::string::npos) end = table.size();
    std::string line = table.substr(at, end - at);
    at = end + 1;
    while (!line.empty() && line.front() == '\t') line.erase(0, 1);
    if (line.find("comment \"topocni:") != std::string::npos) listed.insert(line);
  }
  CHECK(listed == expected);
  // And the chains are the ones nft would have made.
  CHECK(table.find("type nat hook postrouting priority srcnat; policy accept;") != std::string::npos);
  CHECK(table.find("type nat hook prerouting priority dstnat; policy accept;") != std::string::npos);
  topo::nft::apply(all(Action::Delete, entries));
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("rules nft writes from rule_text() are observed as their entries") {
  TempNetns ns;
  std::vector<NatEntry> entries = every_form(Family::V6, "o1");
  std::string script = "add table inet topocni\n"
                       "add chain inet topocni postrouting { type nat hook postrouting priority srcnat; }\n"
                       "add chain inet topocni prerouting { type nat hook prerouting priority dstnat; }\n";
  for (const NatEntry& e : entries)
    script += "add rule inet topocni " + std::string(e.action == NatAction::Dnat ? "prerouting " : "postrouting ") +
              topo::nft::rule_text(e) + "\n";
  nft(script);
  CHECK(observe({"o1"}) == sorted(entries));
  topo::nft::apply(all(Action::Delete, entries));
  CHECK_FALSE(our_table_exists());
}

TEST_CASE("a foreign table of 5,000 rules is never read and survives byte for byte") {
  TempNetns ns;
  std::string script = "add table ip kube\nadd chain ip kube services\n";
  for (int i = 0; i < 5000; ++i)
    script += "add rule ip kube services ip daddr 10.96." + std::to_string(i / 250) + "." +
              std::to_string(i % 250 + 1) + " tcp dport 80 dnat to 10.0.0.9:8080\n";
  nft(script);
  // A foreign inet table too: its chains share our family.
  nft("add table inet filter\nadd chain inet filter forward { type filter hook forward priority filter; }\n"
      "add rule inet filter forward ct state established accept\n");
  const std::string before = nft("list table ip kube") + nft("list table inet filter");

  std::vector<NatEntry> entries = every_form(Family::V4, "o1");
  topo::nft::Context ctx;
  const uint64_t messages = topo::nft::Context::messages_received();
  const uint64_t bytes = topo::nft::Context::bytes_received();
  topo::nft::apply(ctx, all(Action::Create, entries));
  CHECK(sorted(topo::nft::observe(ctx, "host", {"o1"})) == sorted(entries));
  topo::nft::apply(ctx, all(Action::Delete, entries));
  // Three listings of our table (apply, observe, apply) of at most 7 rules each, plus the table and chain
  // GETs and the dump's DONE: a few dozen messages and a few KB, while the foreign table alone would be 5,000
  // messages and about a megabyte.
  const uint64_t got_messages = topo::nft::Context::messages_received() - messages;
  const uint64_t got_bytes = topo::nft::Context::bytes_received() - bytes;
  CAPTURE(got_messages);
  CAPTURE(got_bytes);
  CHECK(got_messages <= 3 * (1 + 2 + 7 + 1) + 3);
  CHECK(got_bytes < 16 * 1024);
  CHECK_FALSE(our_table_exists());
  CHECK(nft("list table ip kube") + nft("list table inet filter") == before);
}

TEST_CASE("the table lock excludes a second holder in its namespace only, waits for a release, and leaves no file") {
  struct Timeout {  // a second holder gives up after 50 ms instead of 30 s
    Timeout() { setenv("TOPOCNI_LOCK_TIMEOUT_MS", "50", 1); }
    ~Timeout() { unsetenv("TOPOCNI_LOCK_TIMEOUT_MS"); }
  } short_timeout;
  // In the state dir's .locks/ (topo/state_dir.h), not world-writable /run/lock.
  auto lock_files = [] {
    return topo::test::sh("ls " + topo::state_dir_from_environment() + "/.locks 2>/dev/null | grep -c '^nft-' || true");
  };
  const std::string files_before = lock_files();

  TempNetns a;
  auto held = std::make_unique<topo::nft::TableLock>();
  CHECK_THROWS_AS(topo::nft::TableLock(), topo::BusyError);
  {
    TempNetns b;  // another namespace has a lock of its own
    CHECK_NOTHROW(topo::nft::TableLock());
  }  // back in a
  // A waiter gets the lock once the holder lets go. A thread starts in the namespace of the thread creating it.
  std::atomic<bool> got{false};
  std::string failure;
  unsetenv("TOPOCNI_LOCK_TIMEOUT_MS");
  std::thread waiter([&] {
    try {
      topo::nft::TableLock second;
      got = true;
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  usleep(30'000);
  CHECK_FALSE(got.load());
  held.reset();
  waiter.join();
  CHECK(got.load());
  CHECK(failure == "");
  CHECK(lock_files() == files_before);
}
