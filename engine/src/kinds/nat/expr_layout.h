// The expression-level facts encode_rule() and decode_rule() share, so they cannot drift apart.
#pragma once

#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <cstdint>

#include "topo/model/ip.h"
#include "topo/model/nat.h"

namespace topo::nft {

// nft(8) puts every load and compare of these rules in the first 16-byte register.
inline constexpr uint32_t kReg = NFT_REG_1;

// Interface names are compared over all IFNAMSIZ bytes, NUL-padded (what nft writes for a name without "*").
inline constexpr uint32_t kIfnameLen = IFNAMSIZ;

// Offsets of the addresses in the network header (struct iphdr / struct ipv6hdr).
inline uint32_t addr_offset(Family f, bool source) {
  if (f == Family::V4) return source ? 12 : 16;
  return source ? 8 : 24;
}
inline uint32_t addr_len(Family f) { return f == Family::V4 ? 4 : 16; }

// NFPROTO_IPV4 / NFPROTO_IPV6 happen to equal AF_INET / AF_INET6, as Family does.
inline uint8_t nfproto(Family f) { return static_cast<uint8_t>(f); }

// Every ct state bit a rule may match (topo/model/nat.h kCt*).
inline constexpr uint32_t kCtStates = kCtInvalid | kCtEstablished | kCtRelated | kCtNew | kCtUntracked;

// Whether the rule starts with `meta nfproto`: an address match needs it as its dependency, and a rule
// without one that is not snat/dnat (which carry their family in the NAT expression) is pinned to its family
// with it, as the table is inet.
inline bool needs_nfproto(const NatEntry& e) {
  return e.saddr || e.daddr || (e.action != NatAction::Snat && e.action != NatAction::Dnat);
}

}  // namespace topo::nft
