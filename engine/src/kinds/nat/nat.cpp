// The NAT kind: one rule in topocni's own nftables table (inet topocni). Text, journal JSON, template
// fields, ownership and diff policy. Kernel I/O is in nat_kernel.cpp (over kernel/nft/nat_table), the rule
// codec in rule_encode.cpp / rule_decode.cpp.
#include <fmt/format.h>

#include "kinds/nat/nat_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "kinds/absent.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

namespace {

const EnumTable<NatAction> kActions = {
    {NatAction::Masquerade, "masquerade"}, {NatAction::Snat, "snat"}, {NatAction::Dnat, "dnat"}};

}  // namespace

std::string describe(const NatEntry& n) {
  std::string s = "nat";
  const char* ip = n.family == Family::V4 ? "ip" : "ip6";
  auto match = [&](const std::string& what, bool negate, const std::string& value) {
    s += fmt::format(" {} {}{}", what, negate ? "!= " : "", value);
  };
  if (!n.iif.empty()) match("iifname", n.iif_not, n.iif);
  if (!n.oif.empty()) match("oifname", n.oif_not, n.oif);
  if (n.saddr) match(fmt::format("{} saddr", ip), n.saddr_not, prefix_text(*n.saddr));
  if (n.daddr) match(fmt::format("{} daddr", ip), n.daddr_not, prefix_text(*n.daddr));
  switch (n.action) {
    case NatAction::Masquerade: s += fmt::format(" {} masquerade", ip); break;
    case NatAction::Snat: s += fmt::format(" snat {} to {}", ip, n.to ? n.to->str() : "?"); break;
    case NatAction::Dnat: s += fmt::format(" dnat {} to {}", ip, n.to ? n.to->str() : "?"); break;
  }
  return s;
}

void to_json(json& j, const NatEntry& v) {
  j = {{"namespace", v.scope}, {"family", kFamilies.name(v.family)}, {"action", kActions.name(v.action)}};
  auto match = [&](const char* key, bool negate, const json& value) { j[key] = negate ? json{{"not", value}} : value; };
  if (v.saddr) match("saddr", v.saddr_not, *v.saddr);
  if (v.daddr) match("daddr", v.daddr_not, *v.daddr);
  if (!v.iif.empty()) match("iif", v.iif_not, v.iif);
  if (!v.oif.empty()) match("oif", v.oif_not, v.oif);
  put_optional(j, "to", v.to);
  if (!v.owner.empty()) j["owner"] = v.owner;
}

void from_json(const json& j, NatEntry& v) {
  get_field(j, "namespace", v.scope);
  v.family = kFamilies.value(j.value("family", "ipv4")).value_or(Family::V4);
  v.action = kActions.value(j.value("action", "masquerade")).value_or(NatAction::Masquerade);
  auto match = [&](const char* key, bool& negate, auto& out) {
    auto it = j.find(key);
    if (it == j.end()) return;
    negate = it->is_object();
    const json& value = negate ? it->at("not") : *it;
    using T = std::decay_t<decltype(out)>;
    if constexpr (std::is_same_v<T, std::string>) {
      out = value.get<std::string>();
    } else {
      out = value.get<typename T::value_type>();
    }
  };
  match("saddr", v.saddr_not, v.saddr);
  match("daddr", v.daddr_not, v.daddr);
  match("iif", v.iif_not, v.iif);
  match("oif", v.oif_not, v.oif);
  get_field(j, "to", v.to);
  get_field(j, "owner", v.owner);
}

const tmpl::KindSchema& KindOps<NatEntry>::schema() {
  static const tmpl::KindSchema s{"a nat rule",
                                  {{"action", true},
                                   {"family", false},
                                   {"saddr", false},
                                   {"daddr", false},
                                   {"iif", false},
                                   {"oif", false},
                                   {"to", false},
                                   {"state", false}},
                                  {},
                                  {"saddr", "daddr", "iif", "oif"}};
  return s;
}

void KindOps<NatEntry>::build(tmpl::Fields& f, const std::string& scope, std::vector<NatEntry>& out) {
  NatEntry n;
  n.scope = scope;
  refuse_absent(f, "a nat rule",
                "NAT rules live in topocni's own nftables table, where every rule belongs to one attachment (a "
                "rule of another is refused anyway); rules in other tables are not topocni's to judge");
  n.action = *f.word("action", kActions);
  auto family = f.word("family", kFamilies);
  auto agree = [&](const char* key, Family got, const std::string& what) {
    if (family && *family != got)
      f.fail(key, fmt::format("{} is {} but the rule is {}", what, family_name(got), family_name(*family)));
    family = got;
  };
  if (auto s = f.negatable_cidr("saddr")) {
    agree("saddr", s->value.family(), s->value.str());
    n.saddr = s->value;
    n.saddr_not = s->negated;
  }
  if (auto d = f.negatable_cidr("daddr")) {
    agree("daddr", d->value.family(), d->value.str());
    n.daddr = d->value;
    n.daddr_not = d->negated;
  }
  if (auto i = f.negatable_ifname("iif")) {
    n.iif = i->value;
    n.iif_not = i->negated;
  }
  if (auto o = f.negatable_ifname("oif")) {
    n.oif = o->value;
    n.oif_not = o->negated;
  }
  n.to = f.ip("to");
  if (n.action == NatAction::Masquerade && n.to)
    f.fail("to", "masquerade takes its address from the outgoing interface; 'to' is for snat and dnat");
  if (n.action != NatAction::Masquerade && !n.to) f.fail("action", "snat and dnat need 'to' (the address to translate to)");
  if (n.to) agree("to", n.to->family, n.to->str());
  n.family = family.value_or(Family::V4);
  out.push_back(std::move(n));
}

nlohmann::ordered_json KindOps<NatEntry>::template_form(const NatEntry& n) {
  nlohmann::ordered_json j;
  j["action"] = kActions.name(n.action);
  if (!n.saddr && !n.daddr && !n.to && n.family == Family::V6) j["family"] = "ipv6";
  auto match = [&](const char* key, bool negate, const std::string& value) {
    if (negate)
      j[key] = nlohmann::ordered_json{{"not", value}};
    else
      j[key] = value;
  };
  if (n.saddr) match("saddr", n.saddr_not, n.saddr->str());
  if (n.daddr) match("daddr", n.daddr_not, n.daddr->str());
  if (!n.iif.empty()) match("iif", n.iif_not, n.iif);
  if (!n.oif.empty()) match("oif", n.oif_not, n.oif);
  if (n.to) j["to"] = n.to->str();
  return j;
}

// The rule's comment names its owner. nftables stores prefixes with the host bits cleared, so the desired rule
// asks for what the kernel will report.
void KindOps<NatEntry>::stamp(NatEntry& n, const OwnerMark& mark) {
  n.owner = mark.owner;
  if (n.saddr) n.saddr = n.saddr->network();
  if (n.daddr) n.daddr = n.daddr->network();
}
bool KindOps<NatEntry>::owned(const NatEntry&) { return true; }  // observe returns only rules with our comment
bool KindOps<NatEntry>::may_replace(const NatEntry&, const NatEntry&) { return true; }

}  // namespace topo
