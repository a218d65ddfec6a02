// Helpers the kinds' units share for their text and JSON forms: enum <-> word tables (defined once per enum,
// looked up both ways), iproute2's spellings of prefixes and tables, and optional JSON fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "topo/model/ip.h"
#include "topo/model/json.h"
#include "topo/model/route.h"

namespace topo {

template <class E>
class EnumTable {
 public:
  EnumTable(std::initializer_list<std::pair<E, const char*>> entries) : entries_(entries) {}
  std::string_view name(E e) const {
    for (auto& [v, n] : entries_)
      if (v == e) return n;
    return "?";
  }
  std::optional<E> value(std::string_view word) const {
    for (auto& [v, n] : entries_)
      if (word == n) return v;
    return std::nullopt;
  }
  const std::vector<std::pair<E, const char*>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<E, const char*>> entries_;
};

inline const EnumTable<Family> kFamilies = {{Family::V4, "ipv4"}, {Family::V6, "ipv6"}};

// A host prefix prints as a bare address, as iproute2 does.
inline std::string prefix_text(const IpPrefix& p) { return p.len == p.addr.max_prefix() ? p.addr.str() : p.str(); }

// "main", "local" or the number, as ip-route(8) and ip-rule(8) print tables.
inline std::string table_text(uint32_t t) {
  if (t == kTableMain) return "main";
  if (t == kTableLocal) return "local";
  return std::to_string(t);
}

// Optional fields are written only when set, and read back when present, so journals stay small and readable.
template <class T>
void put_optional(nlohmann::json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

// A journal field's value as T. nlohmann's own get<uint32_t>() casts a float or an out-of-range number
// (1e30, -1) straight to the integer, which is undefined behaviour for a float and a silent wrap for the
// rest: a damaged journal must be a named problem instead (found by fuzz_journal).
template <class T>
T field_value(const nlohmann::json& v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number()) return v.get<T>();  // nlohmann's own type error: "expected a number, found a string"
    using Limits = std::numeric_limits<T>;
    bool fits = false;
    if (v.is_number_unsigned()) {
      fits = v.get<uint64_t>() <= static_cast<uint64_t>(Limits::max());
    } else if (v.is_number_integer()) {
      int64_t n = v.get<int64_t>();
      fits = n < 0 ? std::is_signed_v<T> && n >= static_cast<int64_t>(Limits::min())
                   : static_cast<uint64_t>(n) <= static_cast<uint64_t>(Limits::max());
    }
    if (!fits)
      throw std::invalid_argument(fmt::format("expected an integer from {} to {}, found {}",
                                              Limits::min(), Limits::max(), v.dump()));
    return v.is_number_unsigned() ? static_cast<T>(v.get<uint64_t>()) : static_cast<T>(v.get<int64_t>());
  } else {
    return v.get<T>();
  }
}
// j[key] read by field_value, or `fallback` when the key is absent or null (nlohmann's value() would cast).
template <class T>
T field_or(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? fallback : field_value<T>(*it);
}
template <class T>
void get_field(const nlohmann::json& j, const char* key, std::optional<T>& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = field_value<T>(*it);
}
template <class T>
void get_field(const nlohmann::json& j, const char* key, T& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = field_value<T>(*it);
}

}  // namespace topo
