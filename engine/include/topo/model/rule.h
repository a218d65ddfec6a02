#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"
#include "topo/model/ownership.h"

namespace topo {

struct Rule {
  static constexpr std::string_view kName = "rule";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "rules";  // template and journal section

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
  uint8_t protocol{kOwnerProtocol};  // FRA_PROTOCOL: a foreign rule put back on DEL keeps its own
  // Observed only: the rule has what this model cannot say (an action other than lookup, `not`, tos,
  // ipproto, ports, uidrange, goto, suppress_prefixlength, l3mdev...). `state: absent` refuses to remove it,
  // since DEL could not put it back as it was.
  bool unmodelled{false};
  // Template only ("state: absent"): no rule with these selectors may exist, whatever table it looks up. A
  // foreign one is deleted, journaled (takenOver) and put back on DEL.
  bool absent{false};
  bool owned{false};              // observed only: FRA_PROTOCOL == kOwnerProtocol

  // The kernel identifies a rule by all its selectors; priority first so dumps sort like `ip rule`.
  auto key() const { return std::tie(scope, family, priority, from, to, iif, oif, fwmark, fwmask); }
  bool operator==(const Rule& o) const { return key() == o.key() && table == o.table; }
};

// Defined by the kind's unit (engine/src/kinds/rule/): one line of plan text, and the journal's JSON form.
std::string describe(const Rule& v);
void to_json(nlohmann::json& j, const Rule& v);
void from_json(const nlohmann::json& j, Rule& v);

}  // namespace topo
