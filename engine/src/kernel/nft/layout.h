// Where each kind of NAT rule lives in table inet topocni, and how those chains are defined.
#pragma once

#include <linux/netfilter.h>

#include <cstdint>
#include <string_view>

#include "topo/model/nat.h"

namespace topo::nft {

inline constexpr std::string_view kPostrouting = "postrouting";  // masquerade, snat
inline constexpr std::string_view kPrerouting = "prerouting";    // dnat



inline std::string_view chain_for(NatAction a) { return a == NatAction::Dnat ? kPrerouting : kPostrouting; }

// Base chain definitions: `type nat hook postrouting priority srcnat` (nft(8): srcnat = 100, dstnat = -100).
struct ChainSpec {
  uint32_t hook;
  int32_t priority;
};
inline ChainSpec chain_spec(std::string_view chain) {
  return chain == kPrerouting ? ChainSpec{NF_INET_PRE_ROUTING, -100} : ChainSpec{NF_INET_POST_ROUTING, 100};
}

}  // namespace topo::nft
