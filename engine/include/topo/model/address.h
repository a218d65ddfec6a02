#pragma once

#include <string>
#include <tuple>

#include "topo/model/ip.h"

namespace topo {

struct Address {
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

}  // namespace topo
