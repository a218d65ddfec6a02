// host-local's address ranges, with the semantics of CNI's host-local plugin (containernetworking/plugins,
// plugins/ipam/host-local/backend/allocator: range.go, range_set.go): the same defaults, the same checks and
// the same order of addresses, so that an allocation made here is the one the binary would have made.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "topo/model/ip.h"

namespace topo::cni::host_local {

// One range: `subnet` is a network address (no host bits); `start` and `end` are inclusive. The gateway is
// never handed out, even when it lies between them.
struct Range {
  IpPrefix subnet;
  IpAddress start, end;
  IpAddress gateway;

  bool contains(const IpAddress& a) const;
  std::string str() const;  // "start-end", as host-local names a range in its messages
};

// A range set gives one address: its ranges are of one family and do not overlap.
using RangeSet = std::vector<Range>;

// The address as host-local compares it: an IPv4-mapped IPv6 address is the IPv4 address.
IpAddress canonical(IpAddress a);
// The address after `a` (no wrap past the family's last address is ever asked: a range ends below it).
IpAddress next_address(IpAddress a);

// The range of `set` holding `a`, or nullptr.
const Range* range_for(const RangeSet& set, const IpAddress& a);
bool overlaps(const RangeSet& a, const RangeSet& b);
std::string range_set_text(const RangeSet& set);  // "start-end,start-end"

// The config's error: cni::Error 7 naming the key at `path` ("ipam.ranges[0][0].subnet") and why.
[[noreturn]] void bad_config(const std::string& path, const std::string& why);

// One range / range set from the config, with host-local's defaults: the gateway is the subnet's first
// address, the range runs from it to the last address (IPv4: the one before the broadcast). A wrong value is
// a cni::Error 7 naming `path` and the key.
Range parse_range(const nlohmann::json& j, const std::string& path);
RangeSet parse_range_set(const nlohmann::json& j, const std::string& path);

}  // namespace topo::cni::host_local
