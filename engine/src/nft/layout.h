// Where each kind of NAT rule lives in table inet topocni, and the nft text that creates those chains.
#pragma once

#include <string_view>

#include "topo/model/nat.h"

namespace topo::nft {

inline constexpr std::string_view kPostrouting = "postrouting";  // masquerade, snat
inline constexpr std::string_view kPrerouting = "prerouting";    // dnat

// The comment every rule of ours carries: kCommentPrefix + owner.
inline constexpr std::string_view kCommentPrefix = "topocni:";

inline std::string_view chain_for(NatAction a) { return a == NatAction::Dnat ? kPrerouting : kPostrouting; }

// Chain definitions for `add chain inet topocni <name> { ... }`. Priorities are the symbolic ones of nft(8)
// ("srcnat" = 100, "dstnat" = -100), the same the kernel reports back.
inline std::string_view chain_spec(std::string_view chain) {
  return chain == kPrerouting ? "{ type nat hook prerouting priority dstnat; }"
                              : "{ type nat hook postrouting priority srcnat; }";
}

}  // namespace topo::nft
