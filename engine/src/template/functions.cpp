#include "template/functions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string>

#include "template/expression.h"
#include "topo/error.h"
#include "topo/model/ip.h"
#include "topo/template/template.h"
#include "topo/hash.h"

namespace topo::tmpl {

namespace {

using Args = std::vector<json>;

[[noreturn]] void wrong(std::string_view fn, std::string_view expected, const json& found) {
  throw ExprError(fmt::format("{}: expected {}, found {}", fn, expected, describe_value(found)));
}

// IP functions take "ip", "ip/len", or an object with an `address` (prev.ips) or `dst` (prev.routes) field.
std::string ip_text(std::string_view fn, const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    for (const char* field : {"address", "dst"}) {
      auto it = v.find(field);
      if (it != v.end() && it->is_string()) return it->get<std::string>();
    }
  }
  wrong(fn, "an IP address or CIDR string (or an object with an address or dst field)", v);
}

IpPrefix prefix_of(std::string_view fn, const json& v) {
  std::string text = ip_text(fn, v);
  auto p = IpPrefix::parse(text);
  if (!p) throw ExprError(fmt::format("{}: '{}' is not an IP address or CIDR", fn, text));
  return *p;
}

// The IP and string functions apply to each element of a list, so `prev.ips | ipv4 | address` is a list of
// addresses.
template <class F>
json each(const json& v, F f) {
  if (!v.is_array()) return f(v);
  json out = json::array();
  for (auto& e : v) out.push_back(f(e));
  return out;
}

const json& list_arg(std::string_view fn, const json& v) {
  if (!v.is_array()) wrong(fn, "a list", v);
  return v;
}

std::string string_arg(std::string_view fn, const json& v) {
  if (!v.is_string()) wrong(fn, "a string", v);
  return v.get<std::string>();
}

json fn_address(const Args& a, HostFacts*) {
  return each(a[0], [](const json& v) { return json(prefix_of("address", v).addr.str()); });
}

json fn_prefix_len(const Args& a, HostFacts*) {
  return each(a[0], [](const json& v) { return json(prefix_of("prefix_len", v).len); });
}

json fn_network(const Args& a, HostFacts*) {
  return each(a[0], [](const json& v) { return json(prefix_of("network", v).network().str()); });
}

json fn_host(const Args& a, HostFacts*) {
  return each(a[0], [](const json& v) { return json(IpPrefix::host(prefix_of("host", v).addr).str()); });
}

json fn_family(const Args& a, HostFacts*) {
  return each(a[0],
              [](const json& v) { return json(prefix_of("family", v).family() == Family::V4 ? 4 : 6); });
}

// Elements that are not addresses at all are an error rather than silently dropped: they point at a typo.
json filter_family(std::string_view fn, const json& list, Family want) {
  json out = json::array();
  for (auto& v : list_arg(fn, list))
    if (prefix_of(fn, v).family() == want) out.push_back(v);
  return out;
}

json fn_ipv4(const Args& a, HostFacts*) { return filter_family("ipv4", a[0], Family::V4); }
json fn_ipv6(const Args& a, HostFacts*) { return filter_family("ipv6", a[0], Family::V6); }

// first/last of an empty list are null, so `default(...)` can supply a fallback.
json fn_first(const Args& a, HostFacts*) {
  auto& l = list_arg("first", a[0]);
  return l.empty() ? json() : l.front();
}

json fn_last(const Args& a, HostFacts*) {
  auto& l = list_arg("last", a[0]);
  return l.empty() ? json() : l.back();
}

json fn_length(const Args& a, HostFacts*) {
  const json& v = a[0];
  if (v.is_string()) return v.get_ref<const std::string&>().size();
  if (v.is_array() || v.is_object()) return v.size();
  wrong("length", "a list, object or string", v);
}

json fn_join(const Args& a, HostFacts*) {
  std::string sep = string_arg("join (separator)", a[1]);
  std::string out;
  bool first = true;
  for (auto& v : list_arg("join", a[0])) {
    if (!first) out += sep;
    first = false;
    if (v.is_string())
      out += v.get<std::string>();
    else if (v.is_number_integer())
      out += v.dump();
    else
      wrong("join", "a list of strings or ints", v);
  }
  return out;
}

// An object as a list of {key, value} in key order, so that `loop:` can iterate a map from the config (the
// tuning plugin's `sysctl`). nlohmann's objects are ordered by key: the order is stable across runs.
json fn_items(const Args& a, HostFacts*) {
  if (a[0].is_null()) return json::array();
  if (!a[0].is_object()) wrong("items", "an object", a[0]);
  json out = json::array();
  for (auto it = a[0].begin(); it != a[0].end(); ++it) out.push_back({{"key", it.key()}, {"value", it.value()}});
  return out;
}

json fn_map(const Args& a, HostFacts*) {
  std::string field = string_arg("map (field name)", a[1]);
  json out = json::array();
  for (auto& v : list_arg("map", a[0])) {
    if (!v.is_object()) wrong("map", "a list of objects", v);
    auto it = v.find(field);
    if (it == v.end()) throw ExprError(fmt::format("map: an element has no field '{}'", field));
    out.push_back(*it);
  }
  return out;
}

// The objects of a list (anything else in it is an error of `fn`) whose `field` (null when missing) passes
// `keep`.
template <typename Keep>
json filter_objects(const char* fn, const json& list, const std::string& field, Keep keep) {
  static const json null;
  json out = json::array();
  for (auto& v : list_arg(fn, list)) {
    if (!v.is_object()) wrong(fn, "a list of objects", v);
    auto it = v.find(field);
    if (keep(it == v.end() ? null : *it)) out.push_back(v);
  }
  return out;
}

// where(list, field, value): the objects whose field equals value (as ==: the int 4 is not the string "4"; a
// missing field counts as null). where(list, field): the objects whose field is there and not null.
json fn_where(const Args& a, HostFacts*) {
  std::string field = string_arg("where (field name)", a[1]);
  return filter_objects("where", a[0], field,
                        [&](const json& got) { return a.size() == 3 ? got == a[2] : !got.is_null(); });
}

// prevResult's addresses (or routes) that belong to one interface. CNI lets an address name no interface; it
// then belongs to the one being configured (the sbr and ptp plugins read it so), hence null matches too.
json fn_on_interface(const Args& a, HostFacts*) {
  std::string ifname = string_arg("on_interface (interface name)", a[1]);
  return filter_objects("on_interface", a[0], "interface",
                        [&](const json& got) { return got.is_null() || got == ifname; });
}

// FNV-1a (topo/hash.h): names derived from it survive upgrades of the plugin.
json fn_hash(const Args& a, HostFacts*) {
  std::string s = string_arg("hash", a[0]);
  if (!a[1].is_number_integer()) wrong("hash (length)", "an int from 1 to 16", a[1]);
  int64_t n = a[1].get<int64_t>();
  if (n < 1 || n > 16) wrong("hash (length)", "an int from 1 to 16", a[1]);
  return fmt::format("{:016x}", fnv1a(s)).substr(0, static_cast<size_t>(n));
}

json fn_default(const Args& a, HostFacts*) { return a[0].is_null() ? a[1] : a[0]; }
// The fallback is evaluated only when the value is null: it is often a host lookup (macvlan's
// `params.master | default(host_default_interface(4))` dumped the node's routes on every ADD that named its
// master).
bool default_decided(const Args& evaluated) { return !evaluated[0].is_null(); }

bool is_default_route(std::string_view fn, const json& v) {
  if (v.is_string() && v.get<std::string>() == "default") return true;
  return prefix_of(fn, v).is_default();
}

json fn_is_default(const Args& a, HostFacts*) { return is_default_route("is_default", a[0]); }

json fn_non_default(const Args& a, HostFacts*) {
  json out = json::array();
  for (auto& v : list_arg("non_default", a[0]))
    if (!is_default_route("non_default", v)) out.push_back(v);
  return out;
}

json fn_host_addresses(const Args& a, HostFacts* facts) {
  std::string ifname = string_arg("host_addresses", a[0]);
  if (!facts) throw ExprError("host_addresses: no host facts are available here");
  return facts->addresses(ifname);  // ConflictError (no such interface): node.cpp positions it
}

// "The node IP toward an address": what the host's kernel would use as source for a packet to it.
json fn_host_source_toward(const Args& a, HostFacts* facts) {
  IpPrefix p = prefix_of("host_source_toward", a[0]);
  if (!facts) throw ExprError("host_source_toward: no host facts are available here");
  auto src = facts->source_toward(p.addr.str());
  return src ? json(*src) : json();
}

json fn_host_default_interface(const Args& a, HostFacts* facts) {
  if (!a[0].is_number_integer() || (a[0].get<int64_t>() != 4 && a[0].get<int64_t>() != 6))
    wrong("host_default_interface", "the family, 4 or 6", a[0]);
  if (!facts) throw ExprError("host_default_interface: no host facts are available here");
  auto dev = facts->default_interface(a[0].get<int64_t>() == 4 ? Family::V4 : Family::V6);
  return dev ? json(*dev) : json();
}

// An interface of the node: {name, kind, mtu, mac, up}. The node's underlay MTU is host_link(dev).mtu.
json fn_host_link(const Args& a, HostFacts* facts) {
  std::string ifname = string_arg("host_link", a[0]);
  if (!facts) throw ExprError("host_link: no host facts are available here");
  auto link = facts->link(ifname);
  if (!link) throw ConflictError(fmt::format("host interface '{}' does not exist", ifname));  // positioned by node.cpp
  return *link;
}

// A sysctl of the node, as a string (what /proc/sys holds); null when there is no such sysctl.
json fn_host_sysctl(const Args& a, HostFacts* facts) {
  std::string name = string_arg("host_sysctl", a[0]);
  if (!facts) throw ExprError("host_sysctl: no host facts are available here");
  auto value = facts->sysctl(name);
  return value ? json(*value) : json();
}

json fn_host_supports_link(const Args& a, HostFacts* facts) {
  std::string kind = string_arg("host_supports_link", a[0]);
  if (!facts) throw ExprError("host_supports_link: no host facts are available here");
  return facts->supports_link_kind(kind);
}

// String tests, for a template's own checks of config values (`assert:`): whether a config's sysctl name is
// one a pod may set, before anything is rendered from it.
json fn_starts_with(const Args& a, HostFacts*) {
  std::string prefix = string_arg("starts_with (prefix)", a[1]);
  return each(a[0], [&](const json& v) { return json(string_arg("starts_with", v).starts_with(prefix)); });
}

json fn_ends_with(const Args& a, HostFacts*) {
  std::string suffix = string_arg("ends_with (suffix)", a[1]);
  return each(a[0], [&](const json& v) { return json(string_arg("ends_with", v).ends_with(suffix)); });
}

json fn_contains(const Args& a, HostFacts*) {
  std::string part = string_arg("contains (text)", a[1]);
  return each(a[0], [&](const json& v) { return json(string_arg("contains", v).find(part) != std::string::npos); });
}

// replace(old, new) replaces every occurrence; replace(old, new, n) the first n (Go's strings.Replace, which
// the tuning plugin uses to put CNI_IFNAME into its sysctl names).
json fn_replace(const Args& a, HostFacts*) {
  std::string from = string_arg("replace (old)", a[1]), to = string_arg("replace (new)", a[2]);
  if (from.empty()) throw ExprError("replace: the text to replace is empty");
  int64_t limit = -1;
  if (a.size() > 3) {
    if (!a[3].is_number_integer() || a[3].get<int64_t>() < 0) wrong("replace (count)", "an int >= 0", a[3]);
    limit = a[3].get<int64_t>();
  }
  return each(a[0], [&](const json& v) {
    std::string s = string_arg("replace", v);
    size_t at = 0;
    for (int64_t n = 0; limit < 0 || n < limit; ++n) {
      at = s.find(from, at);
      if (at == std::string::npos) break;
      s.replace(at, from.size(), to);
      at += to.size();
    }
    return json(s);
  });
}

json fn_lower(const Args& a, HostFacts*) {
  return each(a[0], [](const json& v) {
    std::string s = string_arg("lower", v);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return json(s);
  });
}

json fn_upper(const Args& a, HostFacts*) {
  return each(a[0], [](const json& v) {
    std::string s = string_arg("upper", v);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return json(s);
  });
}

const std::map<std::string_view, Function>& table() {
  static const std::map<std::string_view, Function> t = {
      {"address", {1, 1, fn_address}},
      {"default", {2, 2, fn_default, default_decided}},
      {"family", {1, 1, fn_family}},
      {"first", {1, 1, fn_first}},
      {"hash", {2, 2, fn_hash}},
      {"host", {1, 1, fn_host}},
      {"host_addresses", {1, 1, fn_host_addresses}},
      {"host_default_interface", {1, 1, fn_host_default_interface}},
      {"host_link", {1, 1, fn_host_link}},
      {"host_supports_link", {1, 1, fn_host_supports_link}},
      {"host_sysctl", {1, 1, fn_host_sysctl}},
      {"host_source_toward", {1, 1, fn_host_source_toward}},
      {"ipv4", {1, 1, fn_ipv4}},
      {"ipv6", {1, 1, fn_ipv6}},
      {"is_default", {1, 1, fn_is_default}},
      {"items", {1, 1, fn_items}},
      {"join", {2, 2, fn_join}},
      {"last", {1, 1, fn_last}},
      {"length", {1, 1, fn_length}},
      {"lower", {1, 1, fn_lower}},
      {"contains", {2, 2, fn_contains}},
      {"ends_with", {2, 2, fn_ends_with}},
      {"replace", {3, 4, fn_replace}},
      {"starts_with", {2, 2, fn_starts_with}},
      {"map", {2, 2, fn_map}},
      {"network", {1, 1, fn_network}},
      {"non_default", {1, 1, fn_non_default}},
      {"prefix_len", {1, 1, fn_prefix_len}},
      {"upper", {1, 1, fn_upper}},
      {"on_interface", {2, 2, fn_on_interface}},
      {"where", {2, 3, fn_where}},
  };
  return t;
}

}  // namespace

const Function* find_function(std::string_view name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string_view> function_names() {
  std::vector<std::string_view> out;
  for (auto& [name, f] : table()) out.push_back(name);
  return out;
}

}  // namespace topo::tmpl
