#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"
#include "topo/model/ownership.h"

namespace topo {

struct Address {
  static constexpr std::string_view kName = "address";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "addresses";  // template and journal section

  std::string scope;  // namespace scope
  std::string dev;    // ifa_index, by name
  IpPrefix local;     // IFA_LOCAL (IFA_ADDRESS for IPv6) + ifa_prefixlen
  bool nodad{false};  // IFA_F_NODAD: IPv6 only, skip duplicate address detection
  // What a foreign address has besides its key, so one removed by `state: absent` comes back as it was on
  // DEL. Ours are created with these defaults; they are not compared (not part of ==).
  uint8_t protocol{kOwnerProtocol};  // IFA_PROTO (0: none, as `ip addr add` makes it)
  uint8_t ifa_scope{0};              // ifa_scope (RT_SCOPE_UNIVERSE: "scope global")
  std::optional<IpAddress> broadcast;  // IFA_BROADCAST (IPv4)
  std::string label;                 // IFA_LABEL when it is not the device's name (IPv4 "eth0:1")
  uint32_t flags{0};                 // IFA_FLAGS a request may set besides nodad (noprefixroute, ...)
  // Template only ("state: absent"): no address with this key may exist. A foreign one is deleted, journaled
  // (takenOver) and put back on DEL when its device still exists (see kinds/absent.h).
  bool absent{false};
  bool owned{false};  // observed only: IFA_PROTO == kOwnerProtocol

  auto key() const { return std::tie(scope, dev, local); }
  bool operator==(const Address& o) const {
    return scope == o.scope && dev == o.dev && local == o.local && nodad == o.nodad;
  }
};

// Defined by the kind's unit (engine/src/kinds/address/): one line of plan text, and the journal's JSON form.
std::string describe(const Address& v);
void to_json(nlohmann::json& j, const Address& v);
void from_json(const nlohmann::json& j, Address& v);

}  // namespace topo
