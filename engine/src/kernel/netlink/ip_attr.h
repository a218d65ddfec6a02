// IP addresses in netlink attributes: raw network-order bytes whose length says the family.
#pragma once

#include <libmnl/libmnl.h>

#include <cstring>
#include <optional>

#include "topo/model/ip.h"

namespace topo::netlink {

// The address in `attr`, or nothing when its length does not fit `family` (a malformed or foreign message).
inline std::optional<IpAddress> address_of(const nlattr* attr, Family family) {
  IpAddress a;
  a.family = family;
  if (mnl_attr_get_payload_len(attr) != a.size()) return std::nullopt;
  std::memcpy(a.bytes.data(), mnl_attr_get_payload(attr), a.size());
  return a;
}

}  // namespace topo::netlink
