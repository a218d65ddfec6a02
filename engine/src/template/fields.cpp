#include "template/fields.h"

#include <fmt/format.h>

#include <cctype>

namespace topo::tmpl {

using nlohmann::json;

Fields::Fields(const Node& node, std::string path, const NodeRenderer& renderer)
    : node_(node), path_(std::move(path)), renderer_(renderer) {}

Mark Fields::mark(const char* key) const {
  const std::string_view k(key);
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.Scalar() == k) return mark_of(it->second, it->first);
  return node_.Mark();
}

const json& Fields::value(const char* key) {
  const std::string_view k(key);
  for (const auto& [name, v] : cache_)
    if (name == k) return v;
  json v;
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.Scalar() == k)
      v = renderer_.render(it->second, mark_of(it->second, it->first), join_path(path_, k));
  return cache_.emplace_back(k, std::move(v)).second;
}

Fields Fields::child(const char* key) {
  const std::string_view k(key);
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.Scalar() == k) return Fields(it->second, join_path(path_, k), renderer_);
  return Fields(Node::empty_map(), join_path(path_, k), renderer_);
}

bool Fields::has(const char* key) { return !value(key).is_null(); }

void Fields::fail(const char* key, const std::string& message) const {
  fail_at(renderer_.file(), mark(key), join_path(path_, key), message);
}

std::optional<std::string> Fields::string(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  fail(key, "expected a string, found " + describe_value(v));
}

std::optional<std::string> Fields::ifname(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) fail(key, "expected an interface name, found " + describe_value(v));
  if (auto why = bad_ifname(v.get<std::string>())) fail(key, *why);
  return v.get<std::string>();
}

static std::optional<IpPrefix> parse_cidr(const json& v) {
  return v.is_string() ? IpPrefix::parse(v.get<std::string>()) : std::nullopt;
}

std::optional<IpPrefix> Fields::cidr(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (auto p = parse_cidr(v)) return p;
  fail(key, "expected a CIDR (\"10.0.0.0/24\", \"fd00::/64\") or an IP address, found " + describe_value(v));
}

std::optional<IpAddress> Fields::ip(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (v.is_string())
    if (auto a = IpAddress::parse(v.get<std::string>())) return a;
  fail(key, "expected an IP address (without a prefix length), found " + describe_value(v));
}

std::optional<uint32_t> Fields::uint(const char* key, uint32_t low, uint32_t high) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_number_integer())
    fail(key, fmt::format("expected an int from {} to {}, found {}", low, high, describe_value(v)));
  int64_t n = v.get<int64_t>();
  if (n < low || n > high) fail(key, fmt::format("expected an int from {} to {}, found {}", low, high, n));
  return static_cast<uint32_t>(n);
}

std::optional<bool> Fields::boolean(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_boolean()) fail(key, "expected true or false, found " + describe_value(v));
  return v.get<bool>();
}

std::optional<MacAddress> Fields::unicast_mac(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) fail(key, "expected a MAC address (six hex pairs: aa:bb:cc:dd:ee:ff), found " + describe_value(v));
  auto mac = MacAddress::parse(v.get<std::string>());
  if (!mac) fail(key, fmt::format("'{}' is not a MAC address (six hex pairs: aa:bb:cc:dd:ee:ff)", v.get<std::string>()));
  if (!mac->is_unicast())
    fail(key, fmt::format("{} is a multicast or zero address; an interface or a neighbour needs a unicast one", mac->str()));
  return mac;
}

std::optional<uint32_t> Fields::table(const char* key) {
  const json& v = value(key);
  if (v.is_null()) return std::nullopt;
  if (v == "main") return 254;   // RT_TABLE_MAIN
  if (v == "local") return 255;  // RT_TABLE_LOCAL
  // 0 is RT_TABLE_UNSPEC: the kernel would pick main for a route and refuse a rule, so it is never meant.
  if (v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 0xFFFFFFFFLL)
    return static_cast<uint32_t>(v.get<int64_t>());
  fail(key,
       "expected a routing table: main, local or an int from 1 to 4294967295, found " + describe_value(v));
}

std::pair<json, bool> Fields::negation(const char* key) {
  const json& v = value(key);
  if (!v.is_object()) return {v, false};
  if (v.size() != 1 || !v.contains("not"))
    fail(key, "expected a value or {not: value}, found an object with other keys");
  return {v.at("not"), true};
}

std::optional<Negatable<IpPrefix>> Fields::negatable_cidr(const char* key) {
  auto [v, negated] = negation(key);
  if (v.is_null()) return std::nullopt;
  if (auto p = parse_cidr(v)) return Negatable<IpPrefix>{*p, negated};
  fail(key, "expected a CIDR or an IP address, or {not: CIDR}, found " + describe_value(v));
}

std::optional<Negatable<std::string>> Fields::negatable_ifname(const char* key) {
  auto [v, negated] = negation(key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) fail(key, "expected an interface name, or {not: name}, found " + describe_value(v));
  if (auto why = bad_ifname(v.get<std::string>())) fail(key, *why);
  return Negatable<std::string>{v.get<std::string>(), negated};
}

}  // namespace topo::tmpl
