// Helpers the kinds' units share for their text and JSON forms: enum <-> word tables (defined once per enum,
// looked up both ways), iproute2's spellings of prefixes and tables, and optional JSON fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
template <class T>
void get_field(const nlohmann::json& j, const char* key, std::optional<T>& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->get<T>();
}
template <class T>
void get_field(const nlohmann::json& j, const char* key, T& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->get<T>();
}

}  // namespace topo
