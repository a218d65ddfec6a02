// The NAT kind: one rule in topocni's own nftables table (inet topocni). Text, journal JSON, template
// fields, ownership and diff policy. Kernel I/O is in nat_kernel.cpp (over kernel/nft/nat_table), the rule
// codec in rule_encode.cpp / rule_decode.cpp.
#include <fmt/format.h>

#include "kinds/rule/mark_value.h"
#include "kinds/nat/nat_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "kinds/absent.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

namespace {

const EnumTable<NatAction> kActions = {{NatAction::Masquerade, "masquerade"},
                                       {NatAction::Snat, "snat"},
                                       {NatAction::Dnat, "dnat"},
                                       {NatAction::Accept, "accept"},
                                       {NatAction::Drop, "drop"},
                                       {NatAction::None, "none"}};

const EnumTable<NftHook> kHooks = {{NftHook::Prerouting, "prerouting"},
                                   {NftHook::Input, "input"},
                                   {NftHook::Forward, "forward"},
                                   {NftHook::Output, "output"},
                                   {NftHook::Postrouting, "postrouting"}};

// In the kernel's bit order, as nft lists them.
const EnumTable<uint32_t> kCtStateWords = {{kCtInvalid, "invalid"},
                                           {kCtEstablished, "established"},
                                           {kCtRelated, "related"},
                                           {kCtNew, "new"},
                                           {kCtUntracked, "untracked"}};

std::string hex(uint32_t v) { return fmt::format("{:#x}", v); }

// "0x10", "0x10/0xff": the fwmark form (kinds/rule/mark_value.h) of a mark match or a value to set.
std::string mark_word(const MarkValue& m) {
  return m.mask == 0xFFFFFFFF ? hex(m.value) : hex(m.value) + "/" + hex(m.mask);
}

json mark_json(const MarkValue& m) {
  json j = {{"value", m.value}};
  if (m.mask != 0xFFFFFFFF) j["mask"] = m.mask;
  return j;
}

MarkValue mark_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("expected an object with value and mask");
  for (const auto& [k, v] : j.items()) {
    if (k != "value" && k != "mask") throw std::invalid_argument("unknown key " + k);
  }
  MarkValue m;
  m.value = field_value<uint32_t>(j.at("value"));
  if (j.contains("mask")) m.mask = field_value<uint32_t>(j.at("mask"));
  return m;
}

// `other` is the word for the other mark: "ctmark" in setmark, "mark" in setctmark.
json set_json(const MarkSet& m, const char* other) { return m.from_other ? json(other) : mark_json(m.to); }

MarkSet set_from_json(const json& j, const char* other) {
  MarkSet m;
  if (j.is_string()) {
    if (j.get<std::string>() != other) throw std::invalid_argument(fmt::format("expected \"{}\" or a mark", other));
    m.from_other = true;
  } else {
    m.to = mark_from_json(j);
  }
  return m;
}

std::vector<std::string> ctstate_words(uint32_t bits) {
  std::vector<std::string> out;
  for (auto& [bit, word] : kCtStateWords.entries())
    if (bits & bit) out.emplace_back(word);
  return out;
}

}  // namespace

std::string describe(const NatEntry& n) {
  std::string s = is_nat(n.action) ? "nat" : fmt::format("nft {}", kHooks.name(n.hook));
  const char* ip = n.family == Family::V4 ? "ip" : "ip6";
  auto match = [&](const std::string& what, bool negate, const std::string& value) {
    s += fmt::format(" {} {}{}", what, negate ? "!= " : "", value);
  };
  if (!n.iif.empty()) match("iifname", n.iif_not, n.iif);
  if (!n.oif.empty()) match("oifname", n.oif_not, n.oif);
  if (n.saddr) match(fmt::format("{} saddr", ip), n.saddr_not, prefix_text(*n.saddr));
  if (n.daddr) match(fmt::format("{} daddr", ip), n.daddr_not, prefix_text(*n.daddr));
  if (!is_nat(n.action) && !n.saddr && !n.daddr) s += fmt::format(" meta nfproto {}", family_name(n.family));
  if (n.mark) s += " mark " + mark_word(*n.mark);
  if (n.ctmark) s += " ct mark " + mark_word(*n.ctmark);
  if (n.ctstate) s += " ct state " + fmt::format("{}", fmt::join(ctstate_words(n.ctstate), ","));
  if (n.set_mark) s += " meta mark set " + (n.set_mark->from_other ? std::string("ct mark") : mark_word(n.set_mark->to));
  if (n.set_ctmark)
    s += " ct mark set " + (n.set_ctmark->from_other ? std::string("meta mark") : mark_word(n.set_ctmark->to));
  switch (n.action) {
    case NatAction::Accept: s += " accept"; break;
    case NatAction::Drop: s += " drop"; break;
    case NatAction::None: break;
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
  if (!is_nat(v.action)) j["hook"] = kHooks.name(v.hook);
  if (v.mark) j["mark"] = mark_json(*v.mark);
  if (v.ctmark) j["ctmark"] = mark_json(*v.ctmark);
  if (v.ctstate) j["ctstate"] = ctstate_words(v.ctstate);
  if (v.set_mark) j["setmark"] = set_json(*v.set_mark, "ctmark");
  if (v.set_ctmark) j["setctmark"] = set_json(*v.set_ctmark, "mark");
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
  if (auto it = j.find("hook"); it != j.end()) {
    auto h = kHooks.value(it->get<std::string>());
    if (!h) throw std::invalid_argument("unknown hook " + it->get<std::string>());
    v.hook = *h;
  }
  if (auto it = j.find("mark"); it != j.end()) v.mark = mark_from_json(*it);
  if (auto it = j.find("ctmark"); it != j.end()) v.ctmark = mark_from_json(*it);
  if (auto it = j.find("ctstate"); it != j.end()) {
    for (const std::string& word : it->get<std::vector<std::string>>()) {
      auto bit = kCtStateWords.value(word);
      if (!bit) throw std::invalid_argument("unknown ct state " + word);
      v.ctstate |= *bit;
    }
  }
  if (auto it = j.find("setmark"); it != j.end()) v.set_mark = set_from_json(*it, "ctmark");
  if (auto it = j.find("setctmark"); it != j.end()) v.set_ctmark = set_from_json(*it, "mark");
  get_field(j, "to", v.to);
  get_field(j, "owner", v.owner);
}

namespace {

// `mark`, `ctmark`: a mark to match, "0x10" or "0x10/0xff" (a policy rule's fwmark form).
std::optional<MarkValue> read_mark(tmpl::Fields& f, const char* key, bool to_set) {
  const json& v = f.value(key);
  if (v.is_null()) return std::nullopt;
  auto m = parse_mark(v);
  if (!m)
    f.fail(key, fmt::format("expected a mark as an int or \"mark/mask\" (e.g. \"0x10/0xff\"){}, found {}",
                            to_set ? (std::string(key) == "setmark" ? " or ctmark" : " or mark") : "",
                            tmpl::describe_value(v)));
  MarkValue out{m->value, m->mask.value_or(0xFFFFFFFF)};
  if (out.mask == 0) f.fail(key, "a mask of 0 matches or changes nothing");
  if (out.value & ~out.mask)
    f.fail(key, fmt::format("the value {} has bits outside the mask {}", hex(out.value), hex(out.mask)));
  return out;
}

// `setmark: ctmark` (restore the connection's mark to the packet) or a mark; `setctmark: mark` or a mark.
std::optional<MarkSet> read_set(tmpl::Fields& f, const char* key, const char* other) {
  const json& v = f.value(key);
  if (v.is_null()) return std::nullopt;
  if (v.is_string() && v.get<std::string>() == other) return MarkSet{true, {}};
  return MarkSet{false, *read_mark(f, key, true)};
}

// The keys of filter and mark rules, and where they may be used.
void read_filter_fields(tmpl::Fields& f, NatEntry& n) {
  n.mark = read_mark(f, "mark", false);
  n.ctmark = read_mark(f, "ctmark", false);
  // nft's own form: one state or several separated by commas, "established,related".
  if (const json& v = f.value("ctstate"); !v.is_null()) {
    const std::string expected = "expected one or more of invalid, established, related, new, untracked, "
                                 "separated by commas (e.g. \"established,related\"), found ";
    if (!v.is_string()) f.fail("ctstate", expected + tmpl::describe_value(v));
    const std::string text = v.get<std::string>();
    size_t start = 0;
    while (true) {
      const size_t comma = text.find(',', start);
      std::string word = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      word.erase(0, word.find_first_not_of(' '));
      word.erase(word.find_last_not_of(' ') + 1);
      auto bit = kCtStateWords.value(word);
      if (!bit) f.fail("ctstate", expected + tmpl::describe_value(v));
      n.ctstate |= *bit;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  n.set_mark = read_set(f, "setmark", "ctmark");
  n.set_ctmark = read_set(f, "setctmark", "mark");

  const auto hook = f.word("hook", kHooks);
  if (is_nat(n.action)) {
    if (hook && *hook != nat_hook(n.action))
      f.fail("hook", fmt::format("{} runs at hook {} (topocni's nat chain), not {}", kActions.name(n.action),
                                 kHooks.name(nat_hook(n.action)), kHooks.name(*hook)));
  } else {
    if (!n.set_mark && !n.set_ctmark && n.action == NatAction::None)
      f.fail("action", "a rule needs an action (accept, drop, masquerade, snat, dnat) or a mark statement "
                       "(setmark, setctmark)");
    if (!hook) f.fail("hook", "accept, drop and mark rules need a hook: prerouting, input, forward, output or postrouting");
    n.hook = *hook;
  }
  const NftHook at = is_nat(n.action) ? nat_hook(n.action) : n.hook;
  if (f.has("iif") && at == NftHook::Output)
    f.fail("iif", "a locally generated packet has no input interface at hook output");
  if (f.has("oif") && (at == NftHook::Prerouting || at == NftHook::Input))
    f.fail("oif", fmt::format("the output interface is not known yet at hook {}", kHooks.name(at)));
  if (n.set_mark && at == NftHook::Postrouting)
    f.fail("setmark", "the route is chosen before postrouting: a mark set there steers nothing (use prerouting "
                      "or output)");
}

}  // namespace

const tmpl::KindSchema& KindOps<NatEntry>::schema() {
  static const tmpl::KindSchema s{"a nat rule",
                                  {{"action", false},
                                   {"hook", false},
                                   {"family", false},
                                   {"saddr", false},
                                   {"daddr", false},
                                   {"iif", false},
                                   {"oif", false},
                                   {"mark", false},
                                   {"ctmark", false},
                                   {"ctstate", false},
                                   {"setmark", false},
                                   {"setctmark", false},
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
  n.action = f.word("action", kActions).value_or(NatAction::None);
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
  read_filter_fields(f, n);
  n.to = f.ip("to");
  if (!is_nat(n.action) && n.to) f.fail("to", "'to' is for snat and dnat");
  if (n.action == NatAction::Masquerade && n.to)
    f.fail("to", "masquerade takes its address from the outgoing interface; 'to' is for snat and dnat");
  if ((n.action == NatAction::Snat || n.action == NatAction::Dnat) && !n.to) f.fail("action", "snat and dnat need 'to' (the address to translate to)");
  if (n.to) agree("to", n.to->family, n.to->str());
  n.family = family.value_or(Family::V4);
  out.push_back(std::move(n));
}

nlohmann::ordered_json KindOps<NatEntry>::template_form(const NatEntry& n) {
  nlohmann::ordered_json j;
  if (n.action != NatAction::None) j["action"] = kActions.name(n.action);
  if (!is_nat(n.action)) j["hook"] = kHooks.name(n.hook);
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
  if (n.mark) j["mark"] = mark_word(*n.mark);
  if (n.ctmark) j["ctmark"] = mark_word(*n.ctmark);
  if (n.ctstate) j["ctstate"] = fmt::format("{}", fmt::join(ctstate_words(n.ctstate), ","));
  if (n.set_mark) j["setmark"] = n.set_mark->from_other ? std::string("ctmark") : mark_word(n.set_mark->to);
  if (n.set_ctmark) j["setctmark"] = n.set_ctmark->from_other ? std::string("mark") : mark_word(n.set_ctmark->to);
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
