#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"

namespace topo {

struct Address {
  static constexpr std::string_view kName = "address";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "addresses";  // template and journal section

  std::string scope;  // namespace scope
  std::string dev;    // ifa_index, by name
  IpPrefix local;     // IFA_LOCAL (IFA_ADDRESS for IPv6) + ifa_prefixlen
  bool nodad{false};  // IFA_F_NODAD: IPv6 only, skip duplicate address detection
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
