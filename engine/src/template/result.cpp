#include "template/result.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "topo/error.h"
#include "topo/model/ifname.h"
#include "topo/model/ip.h"
#include "topo/model/scope.h"

namespace topo::tmpl {

using nlohmann::json;

namespace {

struct ListSpec {
  const char* key;
  std::vector<KeySpec> keys;  // besides loop/when
  const char* what;
};

// `family` is accepted (and dropped) on ips so that an item of `ipam.ips` or `prev.ips` fits as it is.
const ListSpec kLists[] = {
    {"interfaces", {{"name", true}, {"scope", false}}, "a result interface"},
    {"ips", {{"address", true}, {"gateway", false}, {"interface", false}, {"family", false}}, "a result ip"},
    {"routes", {{"dst", true}, {"gw", false}}, "a result route"},
};

void check_list(const std::string& file, const Node& list, const ListSpec& spec) {
  std::string path = std::string("result.") + spec.key;
  if (list.IsNull()) return;
  // A whole list from one expression (`ips: "${ ipam.ips }"`) is checked when it renders.
  if (list.IsScalar()) return check_expressions(file, list, path);
  if (!list.IsSequence()) fail_at(file, list, path, "expected a list, found " + node_kind(list));
  std::vector<KeySpec> keys = spec.keys;
  keys.push_back({"loop", false});
  keys.push_back({"when", false});
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = fmt::format("{}[{}]", path, i);
    check_map(file, list[i], p, spec.what, std::span<const KeySpec>(keys));
    for (auto it = list[i].begin(); it != list[i].end(); ++it) {
      std::string key(it->first.Scalar());
      if (key == "loop" || key == "when") {
        check_condition(file, it->second, join_path(p, key));
      } else {
        if (!it->second.IsScalar() && !it->second.IsNull())
          fail_at(file, it->second, join_path(p, key),
                  "expected a single value, found " + node_kind(it->second));
        check_expressions(file, it->second, join_path(p, key));
      }
    }
  }
}

// A rendered value checked where it came from: `node` positions the message.
struct Checker {
  const std::string& file;
  Node node;
  std::string path;

  [[noreturn]] void bad(const std::string& key, const std::string& message) const {
    fail_at(file, node, key.empty() ? path : join_path(path, key), message);
  }
  // A string field; null/absent gives null when optional.
  json string(const json& obj, const char* key, bool optional) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (!optional) bad(key, fmt::format("the result needs the key '{}'", key));
      return nullptr;
    }
    if (!it->is_string()) bad(key, "expected a string, found " + describe_value(*it));
    return *it;
  }
  // An address: with a prefix length when `with_len` (a result's ips and route dst), a bare IP otherwise.
  json address(const json& obj, const char* key, bool optional, bool with_len) const {
    json v = string(obj, key, optional);
    if (v.is_null()) return v;
    std::string s = v.get<std::string>();
    auto p = IpPrefix::parse(s);
    bool has_len = s.find('/') != std::string::npos;
    if (!p || has_len != with_len)
      bad(key, fmt::format("expected {}, found '{}'",
                           with_len ? "an address with its prefix length (\"10.0.0.5/24\")"
                                    : "an IP address without a length",
                           s));
    return v;
  }
  json strings(const json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    if (!it->is_array()) bad(key, "expected a list of strings, found " + describe_value(*it));
    for (const json& s : *it)
      if (!s.is_string()) bad(key, "expected a list of strings, found an item " + describe_value(s));
    return *it;
  }
};

// The items of one list, with loop/when applied; a scalar renders to the whole list.
std::vector<json> items_of(const Node& list, const std::string& path, const NodeRenderer& renderer,
                           json& roots, std::vector<Node>& where) {
  std::vector<json> out;
  if (!list || list.IsNull()) return out;
  if (list.IsScalar()) {
    json v = renderer.render(list, path);
    if (v.is_null()) return out;
    if (!v.is_array()) fail_at(renderer.file(), list, path, "expected a list, found " + describe_value(v));
    for (json& item : v) {
      if (!item.is_object())
        fail_at(renderer.file(), list, path, "expected a list of objects, found " + describe_value(item));
      out.push_back(std::move(item));
      where.push_back(list);
    }
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const Node item = list[i];
    std::string p = fmt::format("{}[{}]", path, i);
    Node loop = find_key(item, "loop"), when = find_key(item, "when");
    auto one = [&] {
      if (when && !truthy(renderer.condition(when, join_path(p, "when")))) return;
      json rendered = json::object();
      for (auto it = item.begin(); it != item.end(); ++it) {
        std::string key(it->first.Scalar());
        if (key == "loop" || key == "when") continue;
        rendered[key] = renderer.render(it->second, mark_of(it->second, it->first), join_path(p, key));
      }
      out.push_back(std::move(rendered));
      where.push_back(item);
    };
    if (!loop) {
      one();
      continue;
    }
    for_each_looped(loop, p, renderer, roots, [&](size_t, const json&) { one(); });
  }
  return out;
}

}  // namespace

void check_result(const std::string& file, const Node& node) {
  if (node.IsNull()) return;
  check_map(file, node, "result", "the result",
            {{"interfaces", false}, {"ips", false}, {"routes", false}, {"dns", false}});
  for (const ListSpec& spec : kLists)
    if (Node list = find_key(node, spec.key)) check_list(file, list, spec);
  if (Node dns = find_key(node, "dns"); dns && !dns.IsNull()) {
    if (dns.IsScalar()) return check_expressions(file, dns, "result.dns");
    check_map(file, dns, "result.dns", "the result's dns",
              {{"nameservers", false}, {"domain", false}, {"search", false}, {"options", false}});
    check_expressions(file, dns, "result.dns");
  }
}

json render_result(const Node& node, const NodeRenderer& renderer, json& roots,
                   const json& prev_interfaces) {
  json out = json::object();
  if (node.IsNull()) return out;
  const std::string& file = renderer.file();
  std::vector<std::string> names;  // of the interfaces an `ips[].interface` may name

  if (Node list = find_key(node, "interfaces")) {
    std::vector<Node> where;
    std::vector<json> items = items_of(list, "result.interfaces", renderer, roots, where);
    out["interfaces"] = json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      Checker c{file, where[i], fmt::format("result.interfaces[{}]", i)};
      std::string name = c.string(items[i], "name", false);
      if (auto why = bad_ifname(name)) c.bad("name", *why);
      json scope = c.string(items[i], "scope", true);
      if (scope.is_null()) scope = kContainerScope;
      if (scope != kContainerScope && scope != kHostScope)
        c.bad("scope",
              fmt::format("expected '{}' or '{}', found {}", kContainerScope, kHostScope, scope.dump()));
      out["interfaces"].push_back({{"name", name}, {"scope", scope}});
      names.push_back(name);
    }
  } else if (prev_interfaces.is_array()) {
    for (const json& i : prev_interfaces)
      if (i.is_object() && i.contains("name") && i["name"].is_string()) names.push_back(i["name"]);
  }

  if (Node list = find_key(node, "ips")) {
    std::vector<Node> where;
    std::vector<json> items = items_of(list, "result.ips", renderer, roots, where);
    out["ips"] = json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      Checker c{file, where[i], fmt::format("result.ips[{}]", i)};
      json address = c.address(items[i], "address", false, true);
      json gateway = c.address(items[i], "gateway", true, false);
      if (!gateway.is_null() && IpPrefix::parse(gateway.get<std::string>())->family() !=
                                    IpPrefix::parse(address.get<std::string>())->family())
        c.bad("gateway", "must be of the address's family");
      json iface = c.string(items[i], "interface", true);
      if (!iface.is_null() && std::find(names.begin(), names.end(), iface.get<std::string>()) == names.end())
        c.bad("interface",
              fmt::format("'{}' is not an interface of the result (it has: {})", iface.get<std::string>(),
                          names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
      out["ips"].push_back({{"address", address}, {"gateway", gateway}, {"interface", iface}});
    }
  }

  if (Node list = find_key(node, "routes")) {
    std::vector<Node> where;
    std::vector<json> items = items_of(list, "result.routes", renderer, roots, where);
    out["routes"] = json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      Checker c{file, where[i], fmt::format("result.routes[{}]", i)};
      out["routes"].push_back(
          {{"dst", c.address(items[i], "dst", false, true)}, {"gw", c.address(items[i], "gw", true, false)}});
    }
  }

  if (Node dns = find_key(node, "dns"); dns && !dns.IsNull()) {
    json v = renderer.render(dns, "result.dns");
    Checker c{file, dns, "result.dns"};
    if (v.is_null()) v = json::object();
    if (!v.is_object()) c.bad("", "expected an object, found " + describe_value(v));
    json d = json::object();
    if (json s = c.strings(v, "nameservers"); !s.is_null()) d["nameservers"] = s;
    if (json s = c.string(v, "domain", true); !s.is_null()) d["domain"] = s;
    if (json s = c.strings(v, "search"); !s.is_null()) d["search"] = s;
    if (json s = c.strings(v, "options"); !s.is_null()) d["options"] = s;
    for (auto it = v.begin(); it != v.end(); ++it)
      if (!d.contains(it.key()) && !it->is_null())
        c.bad(it.key(),
              "unknown key in the result's dns; expected one of: nameservers, domain, search, options");
    out["dns"] = d;
  }
  return out;
}

}  // namespace topo::tmpl
