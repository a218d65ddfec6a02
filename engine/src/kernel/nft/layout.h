// Where each kind of rule lives in table inet topocni, and how those chains are defined.
#pragma once

#include <linux/netfilter.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "topo/model/nat.h"

namespace topo::nft {

inline constexpr std::string_view kPostrouting = "postrouting";  // masquerade, snat
inline constexpr std::string_view kPrerouting = "prerouting";    // dnat
// Filter and mark rules, one chain per hook. Priority mangle (-150): before dstnat (-100), so a mark set in
// prerouting is there when the NAT and routing decisions are made; after conntrack (-200), so ct state and
// ct mark are known. The output chain is `type route`: the kernel routes a locally generated packet again
// when a rule there changed its mark (ip_route_me_harder), which is how a restored mark steers a reply.
inline constexpr std::string_view kFilterPrerouting = "filter-prerouting";
inline constexpr std::string_view kFilterInput = "filter-input";
inline constexpr std::string_view kFilterForward = "filter-forward";
inline constexpr std::string_view kFilterOutput = "filter-output";
inline constexpr std::string_view kFilterPostrouting = "filter-postrouting";

// Every chain topocni may make, in the order listings look for them.
inline constexpr std::array<std::string_view, 7> kChains = {
    kPostrouting,   kPrerouting,   kFilterPrerouting, kFilterInput,
    kFilterForward, kFilterOutput, kFilterPostrouting};

inline std::string_view filter_chain(NftHook h) {
  switch (h) {
    case NftHook::Prerouting:
      return kFilterPrerouting;
    case NftHook::Input:
      return kFilterInput;
    case NftHook::Forward:
      return kFilterForward;
    case NftHook::Output:
      return kFilterOutput;
    case NftHook::Postrouting:
      return kFilterPostrouting;
  }
  return kFilterPostrouting;
}

inline std::string_view chain_for(const NatEntry& e) {
  if (!is_nat(e.action)) return filter_chain(e.hook);
  return e.action == NatAction::Dnat ? kPrerouting : kPostrouting;
}

inline const char* hook_text(uint32_t hook) {
  switch (hook) {
    case NF_INET_PRE_ROUTING:
      return "prerouting";
    case NF_INET_LOCAL_IN:
      return "input";
    case NF_INET_FORWARD:
      return "forward";
    case NF_INET_LOCAL_OUT:
      return "output";
    case NF_INET_POST_ROUTING:
      return "postrouting";
    default:
      return "?";
  }
}

// Base chain definitions: `type nat hook postrouting priority srcnat` (nft(8): srcnat = 100, dstnat = -100,
// mangle = -150).
struct ChainSpec {
  const char* type;
  uint32_t hook;
  int32_t priority;
};
inline ChainSpec chain_spec(std::string_view chain) {
  if (chain == kPrerouting) return {"nat", NF_INET_PRE_ROUTING, -100};
  if (chain == kFilterPrerouting) return {"filter", NF_INET_PRE_ROUTING, -150};
  if (chain == kFilterInput) return {"filter", NF_INET_LOCAL_IN, -150};
  if (chain == kFilterForward) return {"filter", NF_INET_FORWARD, -150};
  if (chain == kFilterOutput) return {"route", NF_INET_LOCAL_OUT, -150};
  if (chain == kFilterPostrouting) return {"filter", NF_INET_POST_ROUTING, -150};
  return {"nat", NF_INET_POST_ROUTING, 100};
}

}  // namespace topo::nft
