// NatEntry → nft rule syntax (nft(8) "PAYLOAD EXPRESSION", "META EXPRESSIONS", "NAT STATEMENTS").
#include <fmt/format.h>

#include "kernel/nft/layout.h"
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

}  // namespace

std::string rule_text(const NatEntry& e) {
  const std::string_view proto = e.family == Family::V4 ? "ip" : "ip6";
  std::string out;
  // In an inet table masquerade applies to both families; without an ip/ip6 payload match (which carries an
  // implicit nfproto dependency) a V4 entry would also masquerade IPv6. snat/dnat carry their family in the
  // NAT expression itself, which the kernel only applies to packets of that family.
  if (e.action == NatAction::Masquerade && !e.saddr && !e.daddr)
    out += fmt::format("meta nfproto {} ", family_name(e.family));
  if (e.saddr) add_match(out, fmt::format("{} saddr", proto), e.saddr_not, prefix_text(*e.saddr));
  if (e.daddr) add_match(out, fmt::format("{} daddr", proto), e.daddr_not, prefix_text(*e.daddr));
  if (!e.iif.empty()) add_match(out, "iifname", e.iif_not, quoted("interface name", e.iif));
  if (!e.oif.empty()) add_match(out, "oifname", e.oif_not, quoted("interface name", e.oif));
  switch (e.action) {
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
