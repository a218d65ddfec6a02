#include "cni/host_local/range_set.h"

#include <fmt/format.h>

#include <algorithm>

#include "cni/cni.h"

namespace topo::cni::host_local {

using nlohmann::json;

namespace {

// An address key of a range: absent, null or "" is unset (Go's net.IP reads "" as nil, as host-local does).
std::optional<IpAddress> address_key(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  std::string at = fmt::format("{}.{}", path, key);
  if (!it->is_string()) bad_config(at, fmt::format("expected an IP address, found {}", it->dump()));
  const std::string& text = it->get_ref<const std::string&>();
  if (text.empty()) return std::nullopt;
  auto a = IpAddress::parse(text);
  if (!a) bad_config(at, fmt::format("'{}' is not an IP address", text));
  return canonical(*a);
}

IpAddress last_address(const IpPrefix& subnet) {
  IpAddress a = subnet.addr;
  for (size_t bit = subnet.len; bit < a.size() * 8; ++bit) a.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  if (a.family == Family::V4) a.bytes[3]--;  // host-local leaves the IPv4 broadcast address out; IPv6 has none
  return a;
}

}  // namespace

void bad_config(const std::string& path, const std::string& why) {
  throw Error(kInvalidConfig, fmt::format("invalid network config: key '{}': {}", path, why));
}

IpAddress canonical(IpAddress a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (a.family == Family::V6 && std::equal(kMapped, kMapped + 12, a.bytes.begin())) {
    IpAddress v4;
    std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
    return v4;
  }
  return a;
}

IpAddress next_address(IpAddress a) {
  for (size_t i = a.size(); i-- > 0;)
    if (++a.bytes[i] != 0) break;
  return a;
}

bool Range::contains(const IpAddress& a) const {
  IpAddress c = canonical(a);
  return c.family == subnet.family() && subnet.contains(c) && c >= start && c <= end;
}

std::string Range::str() const { return start.str() + "-" + end.str(); }

const Range* range_for(const RangeSet& set, const IpAddress& a) {
  for (const Range& r : set)
    if (r.contains(a)) return &r;
  return nullptr;
}

namespace {
bool ranges_overlap(const Range& a, const Range& b) {
  if (a.start.family != b.start.family) return false;
  return a.contains(b.start) || a.contains(b.end) || b.contains(a.start) || b.contains(a.end);
}
}  // namespace

bool overlaps(const RangeSet& a, const RangeSet& b) {
  for (const Range& x : a)
    for (const Range& y : b)
      if (ranges_overlap(x, y)) return true;
  return false;
}

std::string range_set_text(const RangeSet& set) {
  std::string out;
  for (const Range& r : set) out += (out.empty() ? "" : ",") + r.str();
  return out;
}

Range parse_range(const json& j, const std::string& path) {
  if (!j.is_object()) bad_config(path, fmt::format("expected a range {{\"subnet\": ...}}, found {}", j.dump()));
  auto s = j.find("subnet");
  if (s == j.end() || !s->is_string()) bad_config(path + ".subnet", "a range needs a subnet (\"10.1.0.0/24\")");
  const std::string& text = s->get_ref<const std::string&>();
  auto parsed = text.find('/') == std::string::npos ? std::nullopt : IpPrefix::parse(text);
  if (!parsed) bad_config(path + ".subnet", fmt::format("'{}' is not a CIDR", text));
  // host-local refuses an IPv4-mapped IPv6 subnet: its address becomes IPv4, its mask stays IPv6.
  if (canonical(parsed->addr).family != parsed->family())
    bad_config(path + ".subnet", fmt::format("'{}': IP and mask version mismatch", text));
  Range r;
  r.subnet = *parsed;
  // A /32 or /31 (/128, /127) has no address to give once the network and gateway are taken.
  if (r.subnet.len + 2 > r.subnet.addr.max_prefix())
    bad_config(path + ".subnet", fmt::format("network {} too small to allocate from", r.subnet.str()));
  if (r.subnet.network() != r.subnet)
    bad_config(path + ".subnet", fmt::format("network has host bits set: for a mask of length {} the network address is {}",
                                      r.subnet.len, r.subnet.network().addr.str()));
  r.gateway = address_key(j, "gateway", path).value_or(next_address(r.subnet.addr));
  // As host-local checks them: rangeStart inside the subnet and not after a given rangeEnd; rangeEnd inside
  // the subnet and not before the start.
  auto start = address_key(j, "rangeStart", path);
  auto end = address_key(j, "rangeEnd", path);
  auto inside = [&](const IpAddress& a) {
    return a.family == r.subnet.family() && r.subnet.contains(a) && (!start || a >= *start) && (!end || a <= *end);
  };
  if (start && !inside(*start))
    bad_config(path + ".rangeStart", fmt::format("{} is not in network {}", start->str(), r.subnet.str()));
  r.start = start.value_or(next_address(r.subnet.addr));
  start = r.start;
  if (end && !inside(*end)) bad_config(path + ".rangeEnd", fmt::format("{} is not in network {}", end->str(), r.subnet.str()));
  r.end = end.value_or(last_address(r.subnet));
  // Only possible with a rangeStart on the IPv4 broadcast address and no rangeEnd. host-local then counts on
  // past the subnet's end, through the whole address space; here it is a config error.
  if (r.start > r.end)
    bad_config(path + ".rangeStart", fmt::format("{} is after the range's end {}", r.start.str(), r.end.str()));
  return r;
}

RangeSet parse_range_set(const json& j, const std::string& path) {
  if (!j.is_array() || j.empty()) bad_config(path, "expected a non-empty list of ranges");
  RangeSet set;
  for (size_t i = 0; i < j.size(); ++i) {
    set.push_back(parse_range(j[i], fmt::format("{}[{}]", path, i)));
    if (set.back().start.family != set.front().start.family) bad_config(path, "mixed address families in one range set");
  }
  for (size_t a = 0; a < set.size(); ++a)
    for (size_t b = a + 1; b < set.size(); ++b)
      if (ranges_overlap(set[a], set[b]))
        bad_config(path, fmt::format("subnets {} and {} overlap", set[a].str(), set[b].str()));
  return set;
}

}  // namespace topo::cni::host_local
