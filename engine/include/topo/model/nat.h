#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"

namespace topo {

// The rule's last word: a NAT statement, a verdict, or none (a rule that only sets marks and falls through).
enum class NatAction : uint8_t { Masquerade, Snat, Dnat, Accept, Drop, None };

inline bool is_nat(NatAction a) { return a == NatAction::Masquerade || a == NatAction::Snat || a == NatAction::Dnat; }

// The netfilter hook a filter rule runs at (NAT rules have theirs: dnat prerouting, the others postrouting).
enum class NftHook : uint8_t { Prerouting, Input, Forward, Output, Postrouting };

// A packet or connection mark, nft's `meta mark` / `ct mark`: `value` under `mask` (all ones: the whole mark).
struct MarkValue {
  uint32_t value{0};
  uint32_t mask{0xFFFFFFFF};
  auto operator<=>(const MarkValue&) const = default;
};

// `meta mark set ...` / `ct mark set ...`: a value (the bits of `mask` become `value`, the others stay), or
// the other mark copied whole (`meta mark set ct mark` restores a connection's mark to its packets, `ct mark
// set meta mark` saves a packet's mark in its connection).
struct MarkSet {
  bool from_other{false};
  MarkValue to;  // unused when from_other
  auto operator<=>(const MarkSet&) const = default;
};

// ct state bits, as the kernel's NF_CT_STATE_BIT(): invalid 1, established 2, related 4, new 8, untracked 64.
inline constexpr uint32_t kCtInvalid = 1, kCtEstablished = 2, kCtRelated = 4, kCtNew = 8, kCtUntracked = 64;

// One rule in topocni's own nftables table ("inet topocni"): masquerade/snat in a postrouting chain, dnat in a
// prerouting chain, filter and mark rules in a chain of their hook (kernel/nft/layout.h). Each rule carries
// the owning attachment in its comment.
struct NatEntry {
  static constexpr std::string_view kName = "nat";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "nat";  // template and journal section

  std::string scope;                // namespace scope
  Family family{Family::V4};        // ip / ip6 payload matches and NAT family
  NatAction action{NatAction::Masquerade};
  std::optional<IpPrefix> saddr;    // ip saddr
  bool saddr_not{false};            //   "!=" instead of "=="
  std::optional<IpPrefix> daddr;    // ip daddr
  bool daddr_not{false};
  std::string iif;                  // meta iifname
  bool iif_not{false};
  std::string oif;                  // meta oifname
  bool oif_not{false};
  std::optional<MarkValue> mark;    // meta mark [and mask] == value
  std::optional<MarkValue> ctmark;  // ct mark [and mask] == value
  uint32_t ctstate{0};              // ct state in {...}: kCt* bits, 0 = no match
  std::optional<MarkSet> set_mark;    // meta mark set ...   (statements run in this order, before the action)
  std::optional<MarkSet> set_ctmark;  // ct mark set ...
  NftHook hook{NftHook::Postrouting};  // filter rules: their hook; NAT rules leave it at this default (their
                                       // action picks the hook: nat_hook())
  std::optional<IpAddress> to;      // snat/dnat target address
  std::string owner;                // rule comment: the attachment id (set by the engine)

  // NAT rules have no kernel identity beyond their content, so the key is the whole value.
  auto key() const {
    return std::tie(scope, family, action, saddr, saddr_not, daddr, daddr_not, iif, iif_not, oif, oif_not, mark,
                    ctmark, ctstate, set_mark, set_ctmark, hook, to, owner);
  }
  bool operator==(const NatEntry& o) const { return key() == o.key(); }
};

// The hook of a NAT action (dnat: prerouting; masquerade, snat: postrouting).
inline NftHook nat_hook(NatAction a) { return a == NatAction::Dnat ? NftHook::Prerouting : NftHook::Postrouting; }

// Defined by the kind's unit (engine/src/kinds/nat/): one line of plan text, and the journal's JSON form.
std::string describe(const NatEntry& v);
void to_json(nlohmann::json& j, const NatEntry& v);
void from_json(const nlohmann::json& j, NatEntry& v);

}  // namespace topo
