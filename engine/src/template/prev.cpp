#include "template/prev.h"

#include <fmt/format.h>

#include <string>

#include "template/expression.h"
#include "topo/error.h"
#include "topo/model/ip.h"

namespace topo::tmpl {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& message) {
  throw SpecError("<network config>", 0, 0, path, message);
}

const json& list_field(const json& prev, const char* key, const std::string& what) {
  static const json empty = json::array();
  auto it = prev.find(key);
  if (it == prev.end() || it->is_null()) return empty;
  if (!it->is_array())
    bad(fmt::format("{}.{}", what, key), "expected a list, found " + describe_value(*it));
  return *it;
}

// The string at obj[key] parsed as an address/CIDR; null when absent and optional.
json address_field(const json& obj, const char* key, const std::string& path, bool optional) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (optional) return nullptr;
    bad(path, fmt::format("missing '{}'", key));
  }
  if (!it->is_string() || !IpPrefix::parse(it->get<std::string>()))
    bad(path + "." + key, "expected an IP address or CIDR, found " + describe_value(*it));
  return *it;
}

}  // namespace

namespace {

// `prev` and `ipam` share the reduction; `what` is the root of error paths ("prevResult", "ipam").
json normalize_result(const json& prev, const std::string& what) {
  json out = {{"ips", json::array()}, {"routes", json::array()}, {"interfaces", json::array()}};
  if (prev.is_null()) return out;
  if (!prev.is_object()) bad(what, "expected an object, found " + describe_value(prev));
  const json& interfaces = list_field(prev, "interfaces", what);
  out["interfaces"] = interfaces;

  const json& ips = list_field(prev, "ips", what);
  for (size_t i = 0; i < ips.size(); ++i) {
    std::string path = fmt::format("{}.ips[{}]", what, i);
    const json& ip = ips[i];
    if (!ip.is_object()) bad(path, "expected an object, found " + describe_value(ip));
    json address = address_field(ip, "address", path, false);
    auto prefix = IpPrefix::parse(address.get<std::string>());
    // CNI gives `interface` as an index into `interfaces`; templates want the name. A string is an
    // already-normalised value.
    json iface = nullptr;
    auto it = ip.find("interface");
    if (it != ip.end() && it->is_number_integer()) {
      int64_t n = it->get<int64_t>();
      if (n < 0 || static_cast<size_t>(n) >= interfaces.size())
        bad(path + ".interface",
            fmt::format("index {} but {} has {} interface(s)", n, what, interfaces.size()));
      const json& named = interfaces[static_cast<size_t>(n)];
      if (named.is_object() && named.contains("name") && named["name"].is_string()) iface = named["name"];
    } else if (it != ip.end() && it->is_string()) {
      iface = *it;
    } else if (it != ip.end() && !it->is_null()) {
      bad(path + ".interface", "expected an interface index, found " + describe_value(*it));
    }
    out["ips"].push_back({{"address", address},
                          {"gateway", address_field(ip, "gateway", path, true)},
                          {"interface", iface},
                          {"family", prefix->family() == Family::V4 ? 4 : 6}});
  }

  const json& routes = list_field(prev, "routes", what);
  for (size_t i = 0; i < routes.size(); ++i) {
    std::string path = fmt::format("{}.routes[{}]", what, i);
    if (!routes[i].is_object()) bad(path, "expected an object, found " + describe_value(routes[i]));
    out["routes"].push_back({{"dst", address_field(routes[i], "dst", path, false)},
                             {"gw", address_field(routes[i], "gw", path, true)}});
  }
  return out;
}

}  // namespace

json normalize_prev(const json& prev) { return normalize_result(prev, "prevResult"); }

json normalize_ipam(const json& ipam) {
  json in = ipam;
  // An IPAM plugin's `interface` indexes name interfaces of the result being built, which the IPAM result
  // does not list: dropped rather than refused.
  if (in.is_object() && in.contains("ips") && in["ips"].is_array())
    for (json& ip : in["ips"])
      if (ip.is_object()) ip.erase("interface");
  json out = normalize_result(in, "ipam");
  out.erase("interfaces");
  json dns = json::object();
  if (in.is_object())
    if (auto it = in.find("dns"); it != in.end() && !it->is_null()) {
      if (!it->is_object()) bad("ipam.dns", "expected an object, found " + describe_value(*it));
      dns = *it;
    }
  out["dns"] = dns;
  return out;
}

json prev_for_journal(const json& prev) {
  if (!prev.is_object()) return prev.is_null() ? json() : json::object();
  // Keep only `keys` of each object in prev[list] that has them.
  auto pick = [&](const char* list, std::initializer_list<const char*> keys) {
    json out = json::array();
    auto it = prev.find(list);
    if (it == prev.end() || !it->is_array()) return out;
    for (const json& item : *it) {
      json kept = json::object();
      if (item.is_object())
        for (const char* k : keys)
          if (auto v = item.find(k); v != item.end() && (v->is_string() || v->is_number_integer())) kept[k] = *v;
      out.push_back(std::move(kept));  // even when empty: ips[].interface indexes must stay valid
    }
    return out;
  };
  json out = json::object();
  if (auto v = prev.find("cniVersion"); v != prev.end() && v->is_string()) out["cniVersion"] = *v;
  out["interfaces"] = pick("interfaces", {"name", "mac", "sandbox"});
  out["ips"] = pick("ips", {"address", "gateway", "interface"});
  out["routes"] = pick("routes", {"dst", "gw"});
  return out;
}

}  // namespace topo::tmpl
