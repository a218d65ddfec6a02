#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"

namespace topo {

enum class NatAction : uint8_t { Masquerade, Snat, Dnat };

// One rule in topocni's own nftables table ("inet topocni"): masquerade/snat in a postrouting chain, dnat in a
// prerouting chain. Each rule carries the owning attachment in its comment.
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
  std::optional<IpAddress> to;      // snat/dnat target address
  std::string owner;                // rule comment: the attachment id (set by the engine)

  // NAT rules have no kernel identity beyond their content, so the key is the whole value.
  auto key() const {
    return std::tie(scope, family, action, saddr, saddr_not, daddr, daddr_not, iif, iif_not, oif, oif_not, to,
                    owner);
  }
  bool operator==(const NatEntry& o) const { return key() == o.key(); }
};

// Defined by the kind's unit (engine/src/kinds/nat/): one line of plan text, and the journal's JSON form.
std::string describe(const NatEntry& v);
void to_json(nlohmann::json& j, const NatEntry& v);
void from_json(const nlohmann::json& j, NatEntry& v);

}  // namespace topo
