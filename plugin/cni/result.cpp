// CNI results across versions. 0.3.0, 0.3.1 and 0.4.0 share one result format whose `ips` carry
// "version": "4"|"6"; 1.0.0 dropped that field (the address says its family) and 1.1.0 kept 1.0.0's shape.
// Everything else topocni reads or writes (interfaces with name/mac/sandbox, ips with address, gateway and
// an interface index, routes, dns) is common to all of them. So the internal form is 1.x's, and conversion
// is only about `version` — after checking the fields a template relies on.
#include <fmt/format.h>

#include "cni/cni.h"
#include "topo/model/ip.h"

namespace topo::cni {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(kInvalidConfig, fmt::format("invalid network config: key '{}' {}", path, what));
}

bool before_1_0(const std::string& version) { return version.starts_with("0."); }

// An optional list: absent or null is empty; anything else but an array is an error naming the key.
void check_list(const json& prev, const char* key, const std::string& what) {
  auto it = prev.find(key);
  if (it != prev.end() && !it->is_null() && !it->is_array()) {
    bad(fmt::format("{}.{}", what, key), "must be a list");
  }
}

void check_address(const json& obj, const char* key, const std::string& path, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) bad(path + "." + key, "is missing");
    return;
  }
  if (!it->is_string() || !IpPrefix::parse(it->get<std::string>())) {
    bad(path + "." + key, fmt::format("must be an IP address, got {}", it->dump()));
  }
}

}  // namespace

json normalize_prev_result(const json& prev, const std::string& what) {
  if (!prev.is_object()) bad(what, "must be an object");
  json out = prev;
  check_list(out, "interfaces", what);
  check_list(out, "ips", what);
  check_list(out, "routes", what);
  size_t interface_count = out.contains("interfaces") && out["interfaces"].is_array() ? out["interfaces"].size() : 0;
  if (interface_count) {
    for (size_t i = 0; i < interface_count; ++i) {
      const json& iface = out["interfaces"][i];
      std::string path = fmt::format("{}.interfaces[{}]", what, i);
      if (!iface.is_object()) bad(path, "must be an object");
      if (!iface.contains("name") || !iface["name"].is_string()) bad(path + ".name", "must be a string");
    }
  }
  if (out.contains("ips") && out["ips"].is_array()) {
    for (size_t i = 0; i < out["ips"].size(); ++i) {
      json& ip = out["ips"][i];
      std::string path = fmt::format("{}.ips[{}]", what, i);
      if (!ip.is_object()) bad(path, "must be an object");
      check_address(ip, "address", path, true);
      check_address(ip, "gateway", path, false);
      Family family = IpPrefix::parse(ip["address"].get<std::string>())->family();
      // 0.3.x/0.4.0 name the family; it must agree with the address, then it is redundant.
      if (auto v = ip.find("version"); v != ip.end()) {
        std::string want = family == Family::V4 ? "4" : "6";
        if (!v->is_string() || v->get<std::string>() != want) {
          bad(path + ".version", fmt::format("must be \"{}\" for address {}, got {}", want,
                                             ip["address"].get<std::string>(), v->dump()));
        }
        ip.erase("version");
      }
      if (auto g = ip.find("gateway"); g != ip.end() && g->is_string() &&
                                       IpPrefix::parse(g->get<std::string>())->family() != family) {
        bad(path + ".gateway", "must be of the address's family");
      }
      // SPEC: `interface` is an index into `interfaces`; one that points nowhere is not a result we can use.
      if (auto it = ip.find("interface"); it != ip.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
            static_cast<size_t>(it->get<int64_t>()) >= interface_count) {
          bad(path + ".interface",
              fmt::format("must be an index into {}.interfaces ({} of them), got {}", what, interface_count,
                          it->dump()));
        }
      }
    }
  }
  if (out.contains("routes") && out["routes"].is_array()) {
    for (size_t i = 0; i < out["routes"].size(); ++i) {
      const json& r = out["routes"][i];
      std::string path = fmt::format("{}.routes[{}]", what, i);
      if (!r.is_object()) bad(path, "must be an object");
      check_address(r, "dst", path, true);
      check_address(r, "gw", path, false);
    }
  }
  return out;
}

json declared_result(json result, const json& declared, const std::string& netns) {
  // Each key the template declares replaces prevResult's; the others pass through as they came.
  if (auto it = declared.find("interfaces"); it != declared.end()) {
    json interfaces = json::array();
    for (const json& i : *it) {
      json out = {{"name", i.at("name")}, {"mac", i.value("mac", "")}};
      if (i.value("scope", "") == "container") out["sandbox"] = netns;
      interfaces.push_back(std::move(out));
    }
    result["interfaces"] = std::move(interfaces);
  }
  if (auto it = declared.find("ips"); it != declared.end()) {
    // The template names the interface; the result points at it by index into the final `interfaces`
    // (render_result checked the name is one of them).
    const json& interfaces = result.contains("interfaces") && result["interfaces"].is_array() ? result["interfaces"] : json::array();
    json ips = json::array();
    for (const json& ip : *it) {
      json out = {{"address", ip.at("address")}};
      if (ip.contains("gateway") && ip["gateway"].is_string()) out["gateway"] = ip["gateway"];
      if (ip.contains("interface") && ip["interface"].is_string())
        for (size_t k = 0; k < interfaces.size(); ++k)
          if (interfaces[k].is_object() && interfaces[k].value("name", "") == ip["interface"].get<std::string>()) {
            out["interface"] = k;
            break;
          }
      ips.push_back(std::move(out));
    }
    result["ips"] = std::move(ips);
  }
  if (auto it = declared.find("routes"); it != declared.end()) {
    json routes = json::array();
    for (const json& r : *it) {
      json out = {{"dst", r.at("dst")}};
      if (r.contains("gw") && r["gw"].is_string()) out["gw"] = r["gw"];
      routes.push_back(std::move(out));
    }
    result["routes"] = std::move(routes);
  }
  if (auto it = declared.find("dns"); it != declared.end()) result["dns"] = *it;
  return result;
}

json convert_result(json result, const std::string& version) {
  result["cniVersion"] = version;
  if (!result.contains("ips") || !result["ips"].is_array()) return result;
  for (json& ip : result["ips"]) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) continue;
    auto prefix = IpPrefix::parse(ip["address"].get<std::string>());
    if (before_1_0(version) && prefix) {
      ip["version"] = prefix->family() == Family::V4 ? "4" : "6";
    } else {
      ip.erase("version");
    }
  }
  return result;
}

json make_result(const json& config, const std::vector<CreatedInterface>& created, const json& declared,
                 const std::string& netns) {
  json result = json::object();
  if (auto it = config.find("prevResult"); it != config.end() && it->is_object()) {
    result = normalize_prev_result(*it);
  }
  if (declared.is_object()) {
    return convert_result(declared_result(std::move(result), declared, netns), config.at("cniVersion").get<std::string>());
  }
  json& interfaces = result["interfaces"];
  if (!interfaces.is_array()) interfaces = json::array();
  // Appended after the earlier plugins' interfaces, so the indexes their `ips` hold stay valid.
  //
  // Only the host-side ends are reported. The spec asks for the interfaces an attachment created, but runtimes
  // read every interface with a `sandbox` as one of the container's interfaces on this network, keyed by
  // name: podman (containers/common, CNIResultToStatus) keeps them in a map and, on `podman network reload`
  // and checkpoint/restore, re-ADDs with CNI_IFNAME and the MAC of the first one in Go's (random) map order.
  // Listing the pod's auxiliary veth there made that re-ADD run now and then with CNI_IFNAME=veth0: macvlan
  // then created a second veth0 and we refused (101), leaving the pod without network. A chained plugin never creates the attachment's own interface (CNI_IFNAME: the earlier plugin
  // did, and it is already in prevResult), so what it adds in the sandbox is its own business, recorded
  // in the journal; DEL and CHECK do not need it in prevResult.
  for (const auto& c : created) {
    if (!c.sandbox.empty()) continue;
    interfaces.push_back({{"name", c.name}, {"mac", c.mac}});
  }
  return convert_result(std::move(result), config.at("cniVersion").get<std::string>());
}

}  // namespace topo::cni
