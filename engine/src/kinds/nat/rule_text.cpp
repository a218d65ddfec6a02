// NatEntry → nft rule syntax (nft(8) "PAYLOAD EXPRESSION", "META EXPRESSIONS", "NAT STATEMENTS").
#include <fmt/format.h>

#include "kernel/nft/layout.h"
#include "kinds/nat/expr_layout.h"
#include "kernel/nft/nat_table.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

// nft's scanner has no escapes inside a quoted string, so a quote (or anything that would end the line) in
// an interface name or owner would break out of the rule. Linux names cannot contain whitespace, but an owner
// comes from the runtime.
std::string quoted(std::string_view what, const std::string& s) {
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\0')
      throw Error(fmt::format("nat: {} '{}' cannot be written in nft syntax", what, s));
  }
  return "\"" + s + "\"";
}

// The kernel stores a prefix match as mask + compare, so nft lists host bits cleared and a full-length prefix
// as a bare address; print the same so that decoding what we wrote gives back what we wrote.
std::string prefix_text(const IpPrefix& p) {
  if (p.len == p.addr.max_prefix()) return p.addr.str();
  return p.network().str();
}

void add_match(std::string& out, std::string_view left, bool negated, const std::string& right) {
  out += fmt::format("{} {}{} ", left, negated ? "!= " : "", right);
}

// nft lists marks as 32-bit hex numbers: `meta mark 0x00000010`, `ct mark & 0x000000ff == 0x00000010`.
std::string hex(uint32_t v) { return fmt::format("{:#010x}", v); }

std::string mark_text(std::string_view what, const MarkValue& m) {
  if (m.mask == 0xFFFFFFFF) return fmt::format("{} {}", what, hex(m.value));
  return fmt::format("{} & {} == {}", what, hex(m.mask), hex(m.value));
}

std::string set_text(std::string_view what, std::string_view other, const MarkSet& m) {
  if (m.from_other) return fmt::format("{} set {}", what, other);
  if (m.to.mask == 0xFFFFFFFF) return fmt::format("{} set {}", what, hex(m.to.value));
  return fmt::format("{} set {} & {} | {}", what, what, hex(~m.to.mask), hex(m.to.value));
}

}  // namespace

// In nft's order (the bit order): invalid,established,related,new,untracked.
std::string ctstate_text(uint32_t bits) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {kCtInvalid, "invalid"}, {kCtEstablished, "established"}, {kCtRelated, "related"}, {kCtNew, "new"},
      {kCtUntracked, "untracked"}};
  std::string out;
  for (auto [bit, name] : kNames)
    if (bits & bit) out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

std::string rule_text(const NatEntry& e) {
  const std::string_view proto = e.family == Family::V4 ? "ip" : "ip6";
  std::string out;
  // In an inet table masquerade applies to both families; without an ip/ip6 payload match (which carries an
  // implicit nfproto dependency) a V4 entry would also masquerade IPv6. snat/dnat carry their family in the
  // NAT expression itself, which the kernel only applies to packets of that family.
  if (needs_nfproto(e) && !e.saddr && !e.daddr) out += fmt::format("meta nfproto {} ", family_name(e.family));
  if (e.saddr) add_match(out, fmt::format("{} saddr", proto), e.saddr_not, prefix_text(*e.saddr));
  if (e.daddr) add_match(out, fmt::format("{} daddr", proto), e.daddr_not, prefix_text(*e.daddr));
  if (!e.iif.empty()) add_match(out, "iifname", e.iif_not, quoted("interface name", e.iif));
  if (!e.oif.empty()) add_match(out, "oifname", e.oif_not, quoted("interface name", e.oif));
  if (e.mark) out += mark_text("meta mark", *e.mark) + " ";
  if (e.ctmark) out += mark_text("ct mark", *e.ctmark) + " ";
  if (e.ctstate) out += "ct state " + ctstate_text(e.ctstate) + " ";
  if (e.set_mark) out += set_text("meta mark", "ct mark", *e.set_mark) + " ";
  if (e.set_ctmark) out += set_text("ct mark", "meta mark", *e.set_ctmark) + " ";
  switch (e.action) {
    case NatAction::None:
      if (e.to) throw Error(fmt::format("nft: a rule without a verdict takes no target address (got {})", e.to->str()));
      if (!out.empty()) out.pop_back();
      break;
    case NatAction::Accept:
    case NatAction::Drop:
      if (e.to) throw Error(fmt::format("nft: accept and drop take no target address (got {})", e.to->str()));
      out += e.action == NatAction::Accept ? "accept" : "drop";
      break;
    case NatAction::Masquerade:
      // The kernel rule has nowhere to keep a target: accepting one would make the entry never match what is
      // observed.
      if (e.to) throw Error(fmt::format("nat: masquerade takes no target address (got {})", e.to->str()));
      out += "masquerade";
      break;
    case NatAction::Snat:
    case NatAction::Dnat:
      if (!e.to) throw Error("nat: snat/dnat needs a target address");
      out += fmt::format("{} {} to {}", e.action == NatAction::Snat ? "snat" : "dnat", proto, e.to->str());
      break;
  }
  out += " comment " + quoted("owner", std::string(kOwnerPrefix) + e.owner);
  return out;
}

}  // namespace topo::nft
