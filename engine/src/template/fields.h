// Reading one rendered map (a list item, a link's peer) into typed model values. Each accessor renders the
// key on first use and checks its value; a failure names the key, what was expected and what was found, at
// the value's position. A key that is absent or renders to null reads as "not set".
#pragma once

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "template/node.h"
#include "template/tree.h"
#include "topo/model/ifname.h"
#include "topo/model/ip.h"
#include "topo/model/mac.h"

namespace topo::tmpl {

// A match that nftables can negate: `iif: veth0` or `iif: {not: veth0}`.
template <class T>
struct Negatable {
  T value;
  bool negated{false};
};

using topo::bad_ifname;  // topo/model/ifname.h

class Fields {
 public:
  // `node` must already have passed check_map.
  Fields(const Node& node, std::string path, const NodeRenderer& renderer);

  bool has(const char* key);                     // present and not null
  const nlohmann::json& value(const char* key);  // rendered; null when absent
  [[noreturn]] void fail(const char* key, const std::string& message) const;
  const std::string& path() const { return path_; }

  std::optional<std::string> string(const char* key);  // a string; ints are accepted and printed
  std::optional<std::string> ifname(const char* key);
  std::optional<IpPrefix> cidr(const char* key);  // "ip/len" or a bare ip (a host prefix)
  std::optional<IpAddress> ip(const char* key);
  std::optional<uint32_t> uint(const char* key, uint32_t low, uint32_t high);
  std::optional<bool> boolean(const char* key);
  // An interface's or a neighbour's MAC address: not multicast, not all zeros.
  std::optional<MacAddress> unicast_mac(const char* key);
  std::optional<uint32_t> table(const char* key);  // 1..2^32-1, or main / local
  std::optional<Negatable<IpPrefix>> negatable_cidr(const char* key);
  std::optional<Negatable<std::string>> negatable_ifname(const char* key);

  // One of the words of an enum's table (kinds/text.h).
  template <class Table>
  auto word(const char* key, const Table& table) -> std::optional<typename std::decay_t<decltype(table.entries()[0].first)>> {
    const nlohmann::json& v = value(key);
    if (v.is_null()) return std::nullopt;
    std::string list;
    for (auto& [e, w] : table.entries()) {
      if (v.is_string() && v.get_ref<const std::string&>() == w) return e;
      list += (list.empty() ? "" : ", ") + std::string(w);
    }
    fail(key, "expected one of " + list + ", found " + describe_value(v));
  }

  // A key the kind cannot do without, read by one of the accessors above: `f.required(&Fields::ifname,
  // "name")`. check_map has seen the key, but its value may still be null (`name:`, or an expression that
  // renders to null), which the accessors read as "not set".
  template <class T, class... Params, class... Args>
  T required(std::optional<T> (Fields::*read)(const char*, Params...), const char* key, Args... args) {
    std::optional<T> v = (this->*read)(key, args...);
    if (!v) fail(key, "is required, but its value is null");
    return std::move(*v);
  }

  // A nested map (a link's peer), read the same way.
  Fields child(const char* key);

  // One of a fixed set of words.
  template <class E>
  std::optional<E> choice(const char* key, std::initializer_list<std::pair<const char*, E>> words) {
    const nlohmann::json& v = value(key);
    if (v.is_null()) return std::nullopt;
    std::string list;
    for (auto& [w, e] : words) {
      if (v.is_string() && v.get_ref<const std::string&>() == w) return e;
      list += (list.empty() ? "" : ", ") + std::string(w);
    }
    fail(key, "expected one of " + list + ", found " + describe_value(v));
  }

 private:
  Mark mark(const char* key) const;
  // Splits `{not: x}`; the flag says whether it was negated.
  std::pair<nlohmann::json, bool> negation(const char* key);

  Node node_;
  std::string path_;
  const NodeRenderer& renderer_;
  // Values rendered so far, by key. A deque: a reference value() returned stays valid as others are added.
  // Keys are the kind's own string constants and an item has a dozen at most: a scan beats a map's
  // allocations and string copies.
  std::deque<std::pair<std::string_view, nlohmann::json>> cache_;
};

}  // namespace topo::tmpl
