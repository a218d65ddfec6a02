// A link-layer address as a plain value.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace topo {

// A link-layer address (IFLA_ADDRESS, NDA_LLADDR) of an Ethernet-like interface.
struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  // "aa:bb:cc:dd:ee:ff" (either case); nullopt for anything else.
  static std::optional<MacAddress> parse(std::string_view text);
  std::string str() const;  // lower case, as iproute2 prints it
  // The I/G bit: a group (multicast or broadcast) address, never an interface's or a neighbour's.
  bool is_multicast() const { return bytes[0] & 1; }
  bool is_zero() const { return *this == MacAddress{}; }
  // What an interface or a neighbour can have: not multicast, not all zero (the kernel refuses those for an
  // interface: eth_prepare_mac_addr_change).
  bool is_unicast() const { return !is_multicast() && !is_zero(); }
  auto operator<=>(const MacAddress&) const = default;
};

}  // namespace topo
