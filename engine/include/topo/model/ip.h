// IP addresses and prefixes as plain values, parsed and printed in the kernel's canonical form.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace topo {

enum class Family : uint8_t { V4 = 2 /* AF_INET */, V6 = 10 /* AF_INET6 */ };

std::string_view family_name(Family f);  // "ipv4" / "ipv6"

struct IpAddress {
  Family family{Family::V4};
  std::array<uint8_t, 16> bytes{};  // network order; only the first 4 are used for IPv4

  static std::optional<IpAddress> parse(std::string_view text);
  std::string str() const;
  size_t size() const { return family == Family::V4 ? 4 : 16; }
  uint8_t max_prefix() const { return family == Family::V4 ? 32 : 128; }
  bool is_link_local() const;
  auto operator<=>(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress addr;   // not necessarily masked: an interface address keeps its host bits
  uint8_t len{0};

  // Accepts "10.0.0.1/24" and a bare address (as a host prefix).
  static std::optional<IpPrefix> parse(std::string_view text);
  static IpPrefix host(const IpAddress& a) { return {a, a.max_prefix()}; }
  Family family() const { return addr.family; }
  IpPrefix network() const;  // host bits cleared
  bool is_default() const { return len == 0; }
  bool contains(const IpAddress& a) const;
  std::string str() const;
  auto operator<=>(const IpPrefix&) const = default;
};

}  // namespace topo
