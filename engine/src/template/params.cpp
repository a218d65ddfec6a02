#include "template/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "template/expression.h"
#include "template/fields.h"
#include "template/node.h"
#include "template/typo.h"
#include "topo/error.h"
#include "topo/model/mac.h"
#include "topo/model/ip.h"

namespace topo::tmpl {

using nlohmann::json;

namespace {

constexpr const char* kConfigFile = "<network config>";

struct TypeName {
  const char* name;
  ParamType type;
};
constexpr TypeName kTypes[] = {{"string", ParamType::String}, {"bool", ParamType::Bool},
                               {"int", ParamType::Int},       {"ip", ParamType::Ip},
                               {"cidr", ParamType::Cidr},     {"ifname", ParamType::Ifname},
                               {"list", ParamType::List},     {"cidrs", ParamType::Cidrs},
                               {"object", ParamType::Object}, {"mac", ParamType::Mac}};

const char* type_name(ParamType t) {
  for (auto& tn : kTypes)
    if (tn.type == t) return tn.name;
  return "?";
}

bool is_cidr(const json& v) { return v.is_string() && IpPrefix::parse(v.get<std::string>()).has_value(); }

std::optional<int64_t> int_key(const std::string& file, const Node& n, const std::string& path) {
  json v = plain_scalar(n);
  if (!v.is_number_integer()) fail_at(file, n, path, "expected an int, found " + node_kind(n));
  return v.get<int64_t>();
}

}  // namespace

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '_') return false;
  return true;
}

std::optional<std::string> param_value_problem(const ParamDecl& p, const json& v) {
  auto expected = [&](const char* what) {
    return fmt::format("expected {}, found {}", what, describe_value(v));
  };
  switch (p.type) {
    case ParamType::String:
      if (!v.is_string()) return expected("a string");
      break;
    case ParamType::Bool:
      if (!v.is_boolean()) return expected("true or false");
      break;
    case ParamType::Int:
      if (!v.is_number_integer()) return expected("an int");
      if (p.min && v.get<int64_t>() < *p.min)
        return fmt::format("{} is below the minimum {}", v.dump(), *p.min);
      if (p.max && v.get<int64_t>() > *p.max)
        return fmt::format("{} is above the maximum {}", v.dump(), *p.max);
      break;
    case ParamType::Ip:
      if (!v.is_string() || !IpAddress::parse(v.get<std::string>())) return expected("an IP address");
      break;
    case ParamType::Cidr:
      if (!is_cidr(v)) return expected("a CIDR such as 10.0.0.0/24");
      break;
    case ParamType::Ifname:
      if (!v.is_string()) return expected("an interface name");
      // An ifname parameter names an interface a template creates or routes through (an uplink, a veth end);
      // every namespace's loopback is neither: `hostInterface: lo` rendered a route to 127.0.0.1 the kernel
      // refused, and a veth cannot be called lo. A template that matches on lo writes it itself.
      if (v.get<std::string>() == "lo")
        return std::string("'lo' is the loopback device, not an interface for this parameter");
      return bad_ifname(v.get<std::string>());
    case ParamType::List:
      if (!v.is_array()) return expected("a list");
      break;
    case ParamType::Mac: {
      // A MAC to give an interface (MacAddress::is_unicast).
      if (!v.is_string()) return expected("a MAC address (aa:bb:cc:dd:ee:ff)");
      auto mac = MacAddress::parse(v.get<std::string>());
      if (!mac) return expected("a MAC address (aa:bb:cc:dd:ee:ff)");
      if (!mac->is_unicast())
        return fmt::format("{} is a multicast or zero address; an interface needs a unicast one", mac->str());
      break;
    }
    case ParamType::Object:
      if (!v.is_object()) return expected("an object");
      break;
    case ParamType::Cidrs:
      if (!v.is_array()) return expected("a list of CIDRs");
      for (size_t i = 0; i < v.size(); ++i)
        if (!is_cidr(v[i])) return fmt::format("item {}: expected a CIDR, found {}", i, describe_value(v[i]));
      break;
  }
  return std::nullopt;
}

std::vector<ParamDecl> load_parameters(const std::string& file, const Node& node) {
  std::vector<ParamDecl> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap())
    fail_at(file, node, "parameters", "expected a map of parameter declarations, found " + node_kind(node));
  for (auto it = node.begin(); it != node.end(); ++it) {
    ParamDecl p;
    p.name = it->first.Scalar();
    std::string path = "parameters." + p.name;
    if (!is_identifier(p.name))
      fail_at(file, it->first, path,
              "a parameter name must be letters, digits and '_' (it is used as params.NAME)");
    for (auto& q : out)
      if (q.name == p.name) fail_at(file, it->first, path, fmt::format("duplicate parameter '{}'", p.name));
    Node decl = it->second;
    check_map(file, decl, path, "a parameter declaration",
              {{"type", true},
               {"required", false},
               {"default", false},
               {"description", false},
               {"min", false},
               {"max", false}});
    Node def;
    for (auto k = decl.begin(); k != decl.end(); ++k) {
      std::string key(k->first.Scalar());
      std::string kp = join_path(path, key);
      Node v = k->second;
      if (key != "default" && !v.IsScalar() && !v.IsNull())
        fail_at(file, v, kp, "expected a single value, found " + node_kind(v));
      if (key == "type") {
        bool found = false;
        for (auto& tn : kTypes)
          if (v.Scalar() == tn.name) p.type = tn.type, found = true;
        if (!found)
          fail_at(file, v, kp,
                  fmt::format(
                      "unknown type '{}'; expected one of string, bool, int, ip, cidr, ifname, list, cidrs, object, mac",
                      v.Scalar()));
      } else if (key == "required") {
        json b = plain_scalar(v);
        if (!b.is_boolean()) fail_at(file, v, kp, "expected true or false, found " + node_kind(v));
        p.required = b.get<bool>();
      } else if (key == "min") {
        p.min = int_key(file, v, kp);
      } else if (key == "max") {
        p.max = int_key(file, v, kp);
      } else if (key == "default") {
        def = v;
      }
    }
    if ((p.min || p.max) && p.type != ParamType::Int)
      fail_at(file, decl, path, "min and max apply to int parameters only");
    if (p.min && p.max && *p.min > *p.max) fail_at(file, decl, path, "min is greater than max");
    if (def) {
      if (p.required)
        fail_at(file, def, join_path(path, "default"), "a required parameter cannot have a default");
      // Defaults are literal: parameters are bound before anything an expression could read exists.
      if (def.IsScalar() && def.Scalar().find("${") != std::string::npos)
        fail_at(file, def, join_path(path, "default"),
                "a default is a literal value; it cannot contain ${ }");
      json empty = json::object();
      EvalEnv env{empty, nullptr};
      p.default_value = NodeRenderer(file, env).render(def, join_path(path, "default"));
      if (!p.default_value.is_null())
        if (auto why = param_value_problem(p, p.default_value))
          fail_at(file, def, join_path(path, "default"),
                  fmt::format("not a valid {}: {}", type_name(p.type), *why));
    }
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

// Keys the CNI spec and runtimes put in a plugin's config; never reported as typos, even when one happens to
// be close to a parameter's name.
// logFile, logLevel and logMaxBytes are the plugin's own (plugin/command_log.h), and so is builtinHostLocal
// (plugin/cni/ipam.h).
constexpr const char* kCniKeys[] = {"cniVersion",    "cniVersions", "name",         "type",
                                    "prevResult",    "runtimeConfig", "args",       "capabilities",
                                    "ipam",          "dns",         "logFile",      "logLevel",
                                    "logMaxBytes",   "builtinHostLocal"};

// A config key that is not a parameter is normally a runtime's (CNI configs carry many); one within a typo
// of a parameter's name is far more likely a misspelt parameter that would otherwise silently take its
// default.
void check_typos(const std::vector<ParamDecl>& decls, const json& config) {
  if (!config.is_object() || decls.empty()) return;
  std::vector<std::string> names;
  for (const ParamDecl& p : decls) names.push_back(p.name);
  for (auto it = config.begin(); it != config.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(std::begin(kCniKeys), std::end(kCniKeys), key) != std::end(kCniKeys)) continue;
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;  // a parameter, as declared
    if (auto meant = likely_typo_of(key, names))
      throw SpecError(kConfigFile, 0, 0, "config." + key,
                      fmt::format("unknown key '{}'; did you mean the parameter '{}'?", key, *meant));
  }
}

}  // namespace

json bind_parameters(const std::vector<ParamDecl>& decls, const json& config) {
  check_typos(decls, config);
  json out = json::object();
  for (const ParamDecl& p : decls) {
    std::string path = "config." + p.name;
    const json* given = nullptr;
    if (config.is_object()) {
      auto it = config.find(p.name);
      if (it != config.end() && !it->is_null()) given = &*it;
    }
    if (!given) {
      if (p.required)
        throw SpecError(kConfigFile, 0, 0, path,
                        fmt::format("the template needs the parameter '{}' ({})", p.name, type_name(p.type)));
      out[p.name] = p.default_value;
      continue;
    }
    if (auto why = param_value_problem(p, *given))
      throw SpecError(kConfigFile, 0, 0, path,
                      fmt::format("parameter '{}' ({}): {}", p.name, type_name(p.type), *why));
    out[p.name] = *given;
  }
  return out;
}

}  // namespace topo::tmpl
