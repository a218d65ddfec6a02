#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "topo/model/ip.h"

namespace topo {

struct Rule {
  std::string scope;              // namespace scope
  Family family{Family::V4};      // frh_family
  uint32_t priority{0};           // FRA_PRIORITY ("pref" in ip-rule(8))
  std::optional<IpPrefix> from;   // FRA_SRC + src_len
  std::optional<IpPrefix> to;     // FRA_DST + dst_len
  std::string iif;                // FRA_IIFNAME
  std::string oif;                // FRA_OIFNAME
  std::optional<uint32_t> fwmark; // FRA_FWMARK
  std::optional<uint32_t> fwmask; // FRA_FWMASK
  uint32_t table{0};              // FRA_TABLE ("lookup")
  bool owned{false};              // observed only: FRA_PROTOCOL == kOwnerProtocol

  // The kernel identifies a rule by all its selectors; priority first so dumps sort like `ip rule`.
  auto key() const { return std::tie(scope, family, priority, from, to, iif, oif, fwmark, fwmask); }
  bool operator==(const Rule& o) const { return key() == o.key() && table == o.table; }
};

}  // namespace topo
