// A firewall mark as templates write it, in the rule kind's fwmark form (also read by the nat kind's
// nftables mark matches and statements): an int, or a string "16", "0x10", "0x10/0xff" (ip-rule(8) syntax:
// value/mask).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace topo {

struct ParsedMark {
  uint32_t value{0};
  std::optional<uint32_t> mask;  // only when written as "value/mask"
};

// nullopt when `v` is not a mark of that form (a negative number, more than 32 bits, trailing text).
std::optional<ParsedMark> parse_mark(const nlohmann::json& v);

}  // namespace topo
