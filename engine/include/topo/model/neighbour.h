#pragma once

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"
#include "topo/model/mac.h"
#include "topo/model/ownership.h"

namespace topo {

// A static neighbour entry (ARP for IPv4, NDP for IPv6), as `ip neigh replace ADDR lladdr MAC dev DEV nud
// permanent` makes it.
struct Neighbour {
  static constexpr std::string_view kName = "neighbour";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "neighbours";  // template and journal section

  std::string scope;     // namespace scope
  std::string dev;       // ndm_ifindex, by name
  IpAddress address;     // NDA_DST; its family is the entry's (ndm_family)
  MacAddress lladdr;     // NDA_LLADDR
  uint8_t protocol{kOwnerProtocol};  // NDA_PROTOCOL: a foreign entry put back on DEL keeps its own
  // Observed only: an entry the kernel learnt (not NUD_PERMANENT or NUD_NOARP). `state: absent` removes it, but
  // it is not put back on DEL: the kernel learns it again by itself, and a copy made permanent would be wrong.
  bool learnt{false};
  // Template only ("state: absent"): no entry for this device and address may exist, whatever its lladdr.
  // A foreign one is deleted, journaled (takenOver) and put back on DEL when its device still exists.
  bool absent{false};
  bool owned{false};     // observed only: NDA_PROTOCOL == kOwnerProtocol (entries are created NUD_PERMANENT)

  // The kernel identifies an entry by its table (family), device and address (neigh_lookup).
  auto key() const { return std::tie(scope, dev, address); }
  bool operator==(const Neighbour& o) const { return key() == o.key() && lladdr == o.lladdr; }
};

// Defined by the kind's unit (engine/src/kinds/neighbour/): one line of plan text, and the journal's JSON form.
std::string describe(const Neighbour& v);
void to_json(nlohmann::json& j, const Neighbour& v);
void from_json(const nlohmann::json& j, Neighbour& v);

}  // namespace topo
