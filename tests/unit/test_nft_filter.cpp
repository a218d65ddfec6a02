// Filter and mark rules of the nat kind (accept/drop, meta mark / ct mark matches and statements, ct state):
// the template keys with their positioned errors, the text forms, and the journal's strict read-back.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "template_fakes.h"
#include "topo/error.h"
#include "topo/journal_format.h"
#include "topo/model/json.h"
#include "topo/template/template.h"

using namespace topo;
using nlohmann::json;

namespace {

Rendered render(const std::string& yaml) {
  Template t = Template::load({"t", "t.yaml", yaml});
  return t.render({});
}

struct Where {
  int line{0}, column{0};
  std::string path, message;
};

Where error_of(const std::string& yaml) {
  try {
    render(yaml);
  } catch (const SpecError& e) {
    return {e.line, e.column, e.path, e.message};
  }
  return {};
}

// The reply-path pattern of docs/templates.md.
const char* kReplyPath = R"(
container:
  nat:
    - hook: prerouting
      iif: veth0
      ctstate: new
      setctmark: "0x10"
    - hook: output
      ctmark: "0x10/0xff"
      setmark: ctmark
    - {hook: input, ctstate: invalid, action: drop, family: ipv6}
    - {hook: forward, ctstate: "established, related", mark: 16, action: accept, setctmark: mark}
    - {action: dnat, hook: prerouting, daddr: 10.0.0.1, to: 10.0.0.2, setctmark: "0x100/0xf00"}
)";

}  // namespace

TEST_CASE("the reply-path rules render to filter and mark rules at their hooks") {
  Rendered r = render(kReplyPath);
  const auto& rules = r.state.of<NatEntry>();
  REQUIRE(rules.size() == 5);
  CHECK(rules[0].action == NatAction::None);
  CHECK(rules[0].hook == NftHook::Prerouting);
  CHECK(rules[0].iif == "veth0");
  CHECK(rules[0].ctstate == kCtNew);
  CHECK(rules[0].set_ctmark == MarkSet{false, {0x10, 0xFFFFFFFF}});
  CHECK(rules[1].hook == NftHook::Output);
  CHECK(rules[1].ctmark == MarkValue{0x10, 0xff});
  CHECK(rules[1].set_mark == MarkSet{true, {}});
  CHECK(rules[2].action == NatAction::Drop);
  CHECK(rules[2].family == Family::V6);
  CHECK(rules[2].ctstate == kCtInvalid);
  CHECK(rules[3].ctstate == (kCtEstablished | kCtRelated));
  CHECK(rules[3].mark == MarkValue{16, 0xFFFFFFFF});
  CHECK(rules[3].set_ctmark == MarkSet{true, {}});
  CHECK(rules[4].action == NatAction::Dnat);
  CHECK(rules[4].set_ctmark == MarkSet{false, {0x100, 0xf00}});

  CHECK(describe(rules[0]) == "nft prerouting iifname veth0 meta nfproto ipv4 ct state new ct mark set 0x10");
  CHECK(describe(rules[1]) == "nft output meta nfproto ipv4 ct mark 0x10/0xff meta mark set ct mark");
  CHECK(describe(rules[3]) ==
        "nft forward meta nfproto ipv4 mark 0x10 ct state established,related ct mark set meta mark accept");

  // topoctl render writes back what reads as the same rule.
  CHECK(template_form(Object{rules[0]}).dump() ==
        R"({"hook":"prerouting","iif":"veth0","ctstate":"new","setctmark":"0x10"})");
  CHECK(template_form(Object{rules[1]}).dump() ==
        R"({"hook":"output","ctmark":"0x10/0xff","setmark":"ctmark"})");
  CHECK(template_form(Object{rules[4]}).dump() ==
        R"({"action":"dnat","daddr":"10.0.0.1/32","setctmark":"0x100/0xf00","to":"10.0.0.2"})");
}

TEST_CASE("filter and mark rules survive the journal's strict read, and damaged ones are named") {
  Rendered r = render(kReplyPath);
  JournalRecord rec;
  rec.attachment = {"cni0", "abc", "eth0"};
  rec.template_name = "t";
  rec.netns = "/var/run/netns/p1";
  rec.netns_identity = "4:4026532000";
  rec.allocations = json::object();
  rec.prev_result = {{"cniVersion", "1.0.0"}};
  rec.state = r.state;
  json written = journal_record_to_json(rec);
  CHECK(written["state"]["nat"][0] ==
        json::parse(
            R"({"namespace":"container","family":"ipv4","action":"none","iif":"veth0","hook":"prerouting",
                        "ctstate":["new"],"setctmark":{"value":16}})"));
  CHECK(written["state"]["nat"][1]["setmark"] == "ctmark");
  CHECK(written["state"]["nat"][1]["ctmark"] == json::parse(R"({"value":16,"mask":255})"));
  JournalParse p = parse_journal_record(written.dump(), "f.json");
  CHECK_FALSE(p.damaged());
  CHECK(p.record.state.of<NatEntry>() == r.state.of<NatEntry>());
  CHECK(journal_record_to_json(p.record) == written);

  struct Damage {
    const char* key;
    json value;
    std::string problem;  // the start of the problem's text
  };
  const std::vector<Damage> damages = {
      {"ctstate", json::array({"new", "sleepy"}), "state.nat[0].ctstate: unknown ct state sleepy"},
      {"hook", "ingress", "state.nat[0].hook: unknown hook ingress"},
      {"setctmark", "ctmark", "state.nat[0].setctmark: expected \"mark\" or a mark"},
      {"setctmark", json::parse(R"({"value":16,"bits":1})"), "state.nat[0].setctmark.bits: unknown key bits"},
      {"mark", "0x10", "state.nat[0].mark: expected an object with value and mask"},
  };
  for (const Damage& d : damages) {
    CAPTURE(d.key);
    json bad = written;
    bad["state"]["nat"][0][d.key] = d.value;
    JournalParse q = parse_journal_record(bad.dump(), "f.json");
    CHECK(q.damaged());
    REQUIRE(q.problems.size() == 1);
    CHECK(q.problems[0].rfind(d.problem, 0) == 0);
    CHECK(q.record.state.of<NatEntry>().size() == 4);  // only the damaged rule is lost
  }
}

TEST_CASE("filter and mark keys are validated strictly, at the key's position") {
  struct Case {
    std::string item;
    Where want;
  };
  const std::vector<Case> cases = {
      {"{hook: output, setmark: ctmark, colour: red}",
       {3, 39, "container.nat[0].colour",
        "unknown key 'colour' in a nat rule; expected one of: action, hook, family, saddr, daddr, iif, oif, "
        "mark, "
        "ctmark, ctstate, setmark, setctmark, to, state, loop, when"}},
      {"{hook: output, mark: 0x10/0xzz, action: drop}",
       {3, 28, "container.nat[0].mark",
        "expected a mark as an int or \"mark/mask\" (e.g. \"0x10/0xff\"), found '0x10/0xzz' (string)"}},
      {"{hook: output, ctmark: 0x110/0xff, action: drop}",
       {3, 30, "container.nat[0].ctmark", "the value 0x110 has bits outside the mask 0xff"}},
      {"{hook: output, ctmark: 0x0/0, action: drop}",
       {3, 30, "container.nat[0].ctmark", "a mask of 0 matches or changes nothing"}},
      {"{hook: output, setmark: mark}",
       {3, 31, "container.nat[0].setmark",
        "expected a mark as an int or \"mark/mask\" (e.g. \"0x10/0xff\") or ctmark, found 'mark' (string)"}},
      {"{hook: input, ctstate: 'new,sleepy', action: drop}",
       {3, 30, "container.nat[0].ctstate",
        "expected one or more of invalid, established, related, new, untracked, separated by commas (e.g. "
        "\"established,related\"), found 'new,sleepy' (string)"}},
      {"{hook: input, ctstate: 'new,', action: drop}",
       {3, 30, "container.nat[0].ctstate",
        "expected one or more of invalid, established, related, new, untracked, separated by commas (e.g. "
        "\"established,related\"), found 'new,' (string)"}},
      {"{hook: input, ctstate: [new], action: drop}",
       {3, 30, "container.nat[0].ctstate", "expected a single value, found a list"}},
      {"{action: drop}",
       {3, 7, "container.nat[0].hook",
        "accept, drop and mark rules need a hook: prerouting, input, forward, output or postrouting"}},
      {"{hook: ingress, action: drop}",
       {3, 14, "container.nat[0].hook",
        "expected one of prerouting, input, forward, output, postrouting, found 'ingress' (string)"}},
      {"{hook: input, ctstate: new}",
       {3, 7, "container.nat[0].action",
        "a rule needs an action (accept, drop, masquerade, snat, dnat) or a mark statement (setmark, "
        "setctmark)"}},
      {"{action: dnat, hook: output, daddr: 10.0.0.1, to: 10.0.0.2}",
       {3, 28, "container.nat[0].hook", "dnat runs at hook prerouting (topocni's nat chain), not output"}},
      {"{hook: output, iif: veth0, action: drop}",
       {3, 27, "container.nat[0].iif", "a locally generated packet has no input interface at hook output"}},
      {"{hook: input, oif: veth0, action: drop}",
       {3, 26, "container.nat[0].oif", "the output interface is not known yet at hook input"}},
      {"{hook: postrouting, setmark: 0x10}",
       {3, 36, "container.nat[0].setmark",
        "the route is chosen before postrouting: a mark set there steers nothing (use prerouting or "
        "output)"}},
      {"{hook: input, action: drop, to: 10.0.0.1}",
       {3, 39, "container.nat[0].to", "'to' is for snat and dnat"}},
  };
  for (const Case& c : cases) {
    const std::string yaml = "container:\n  nat:\n    - " + c.item + "\n";
    CAPTURE(yaml);
    Where got = error_of(yaml);
    CHECK(got.path == c.want.path);
    CHECK(got.message == c.want.message);
    CHECK(got.line == c.want.line);
    CHECK(got.column == c.want.column);
  }
}
