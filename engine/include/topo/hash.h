// FNV-1a, 64 bit: stable across builds and platforms (std::hash is not), so names and allocations derived
// from it survive upgrades of the plugin.
#pragma once

#include <cstdint>
#include <string_view>

namespace topo {

inline uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace topo
