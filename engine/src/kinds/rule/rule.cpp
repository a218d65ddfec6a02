// The policy-rule kind: text, journal JSON, template fields, ownership and diff policy. Kernel I/O is in
// rule_kernel.cpp, the netlink codec in rule_codec.cpp.
#include <fmt/format.h>

#include "kinds/absent.h"
#include "kinds/rule/mark_value.h"
#include "kinds/rule/rule_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

namespace {

// "16", 16, "0x10", "0x10/0xff" (ip-rule(8) syntax; mark_value.h).
void read_fwmark(tmpl::Fields& f, Rule& r) {
  const json& v = f.value("fwmark");
  if (v.is_null()) return;
  if (auto m = parse_mark(v)) {
    r.fwmark = m->value;
    r.fwmask = m->mask;
    return;
  }
  f.fail("fwmark", "expected a mark as an int or \"mark/mask\" (e.g. \"0x10/0xff\"), found " + tmpl::describe_value(v));
}

}  // namespace

std::string describe(const Rule& r) {
  std::string s = fmt::format("rule {}pref {}", r.family == Family::V6 ? "-6 " : "", r.priority);
  if (r.from) s += " from " + prefix_text(*r.from);
  if (r.to) s += " to " + prefix_text(*r.to);
  if (!r.iif.empty()) s += " iif " + r.iif;
  if (!r.oif.empty()) s += " oif " + r.oif;
  if (r.fwmark) s += fmt::format(" fwmark {:#x}", *r.fwmark);
  if (r.fwmask) s += fmt::format("/{:#x}", *r.fwmask);
  return s + " lookup " + table_text(r.table);
}

void to_json(json& j, const Rule& v) {
  j = {{"namespace", v.scope}, {"family", kFamilies.name(v.family)}, {"priority", v.priority}, {"table", v.table}};
  put_optional(j, "from", v.from);
  put_optional(j, "to", v.to);
  if (!v.iif.empty()) j["iif"] = v.iif;
  if (!v.oif.empty()) j["oif"] = v.oif;
  put_optional(j, "fwmark", v.fwmark);
  put_optional(j, "fwmask", v.fwmask);
  if (v.absent) j["state"] = "absent";
  if (v.protocol != kOwnerProtocol) j["protocol"] = v.protocol;  // a foreign rule's (takenOver)
}

void from_json(const json& j, Rule& v) {
  get_field(j, "namespace", v.scope);
  v.family = kFamilies.value(j.value("family", "ipv4")).value_or(Family::V4);
  get_field(j, "priority", v.priority);
  get_field(j, "table", v.table);
  get_field(j, "from", v.from);
  get_field(j, "to", v.to);
  get_field(j, "iif", v.iif);
  get_field(j, "oif", v.oif);
  get_field(j, "fwmark", v.fwmark);
  get_field(j, "fwmask", v.fwmask);
  v.absent = j.value("state", "present") == "absent";
  v.protocol = field_or(j, "protocol", kOwnerProtocol);
}

const tmpl::KindSchema& KindOps<Rule>::schema() {
  static const tmpl::KindSchema s{"a rule",
                                  {{"priority", true},
                                   {"family", false},
                                   {"from", false},
                                   {"to", false},
                                   {"iif", false},
                                   {"oif", false},
                                   {"fwmark", false},
                                   {"table", false},
                                   {"state", false}}};
  return s;
}

void KindOps<Rule>::build(tmpl::Fields& f, const std::string& scope, std::vector<Rule>& out) {
  Rule r;
  r.scope = scope;
  r.priority = f.required(&tmpl::Fields::uint, "priority", 0u, 0xFFFFFFFFu);
  r.from = f.cidr("from");
  r.to = f.cidr("to");
  auto family = f.word("family", kFamilies);
  // Without an explicit family the selectors decide; a rule with none of them is IPv4, as in ip-rule(8).
  for (const char* key : {"from", "to"}) {
    const auto& sel = std::string(key) == "from" ? r.from : r.to;
    if (!sel) continue;
    if (family && *family != sel->family())
      f.fail(key, fmt::format("{} is {} but the rule is {}", sel->str(), family_name(sel->family()), family_name(*family)));
    family = sel->family();
  }
  r.family = family.value_or(Family::V4);
  r.iif = f.ifname("iif").value_or("");
  r.oif = f.ifname("oif").value_or("");
  read_fwmark(f, r);
  // Absent: the key is the priority and every selector; whatever table such a rule looks up, it goes.
  r.absent = read_absent(f, "a rule", "priority and selectors", {"table"});
  if (r.absent) {
    out.push_back(std::move(r));
    return;
  }
  // Required only for a present rule (the schema cannot say so).
  if (!f.has("table")) f.fail("table", "a rule needs the key 'table' (unless it has state: absent)");
  r.table = f.required(&tmpl::Fields::table, "table");
  out.push_back(std::move(r));
}

nlohmann::ordered_json KindOps<Rule>::template_form(const Rule& r) {
  nlohmann::ordered_json j;
  j["priority"] = r.priority;
  // The family is written when the selectors do not already say it.
  if (!r.from && !r.to && r.family == Family::V6) j["family"] = "ipv6";
  if (r.from) j["from"] = r.from->str();
  if (r.to) j["to"] = r.to->str();
  if (!r.iif.empty()) j["iif"] = r.iif;
  if (!r.oif.empty()) j["oif"] = r.oif;
  if (r.fwmark && r.fwmask)
    j["fwmark"] = fmt::format("{:#x}/{:#x}", *r.fwmark, *r.fwmask);
  else if (r.fwmark)
    j["fwmark"] = *r.fwmark;
  if (r.absent)
    j["state"] = "absent";
  else
    j["table"] = table_text(r.table);
  return j;
}

// Rules we create carry FRA_PROTOCOL 157 (encode_rule writes it).
void KindOps<Rule>::stamp(Rule&, const OwnerMark&) {}
bool KindOps<Rule>::owned(const Rule& observed) { return observed.owned; }
bool KindOps<Rule>::may_replace(const Rule&, const Rule& seen) { return seen.owned; }

}  // namespace topo
