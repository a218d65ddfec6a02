#include "render_inputs.h"

#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "topo/error.h"
#include "topo/hash.h"
#include "topo/model/ip.h"
#include "topo/model/scope.h"
#include "topo/table_allocator.h"

namespace topo::cli {

using nlohmann::json;

namespace {

constexpr const char* kFactForms =
    "IFNAME.addresses=CIDR[,CIDR...], default.ipv4=IFNAME, default.ipv6=IFNAME or toward.DST=SRC";

[[noreturn]] void bad_fact(const std::string& fact, const std::string& why) {
  throw Error(fmt::format("--fact '{}': {}", fact, why));
}

// "" is "none" (the function returns null); anything else must be an address.
std::optional<std::string> source_value(const std::string& fact, const std::string& value) {
  if (value.empty()) return std::nullopt;
  auto a = IpAddress::parse(value);
  if (!a) bad_fact(fact, fmt::format("'{}' is not an IP address (toward.DST=SRC)", value));
  return a->str();
}

}  // namespace

GivenFacts parse_facts(const std::vector<std::string>& facts, const json& config) {
  GivenFacts out;
  for (const std::string& fact : facts) {
    // Split at the first '=': neither an interface name nor an address contains one. A keyword ends at the
    // key's first '.', so what follows it may be an address, which contains '.' and ':' itself.
    size_t eq = fact.find('=');
    if (eq == std::string::npos) bad_fact(fact, fmt::format("expected {}", kFactForms));
    std::string key = fact.substr(0, eq), value = fact.substr(eq + 1);
    // First, so interfaces named "default" or "toward" keep working: no address ends in ".addresses".
    const std::string suffix = ".addresses";
    if (key.size() > suffix.size() && key.ends_with(suffix)) {
      std::string name = key.substr(0, key.size() - suffix.size());
      if (config.is_object() && config.contains(name) && config[name].is_string())
        name = config[name].get<std::string>();
      std::vector<std::string>& list = out.addresses[name];
      std::stringstream ss(value);
      for (std::string cidr; std::getline(ss, cidr, ',');) {
        if (cidr.empty()) continue;
        if (!IpPrefix::parse(cidr)) bad_fact(fact, fmt::format("'{}' is not an address/prefix", cidr));
        list.push_back(cidr);
      }
      continue;
    }
    if (key == "default.ipv4" || key == "default.ipv6") {
      if (value.find_first_of("/ ,") != std::string::npos)
        bad_fact(fact, fmt::format("'{}' is not an interface name ({}=IFNAME)", value, key));
      out.default_interface[key == "default.ipv4" ? Family::V4 : Family::V6] =
          value.empty() ? std::nullopt : std::optional<std::string>(value);
      continue;
    }
    if (key.starts_with("toward.")) {
      std::string dst = key.substr(7);
      auto prefix = IpPrefix::parse(dst);
      if (!prefix) bad_fact(fact, fmt::format("'{}' is not an IP address or CIDR (toward.DST=SRC)", dst));
      std::optional<std::string> src = source_value(fact, value);
      if (src && IpAddress::parse(*src)->family != prefix->family())
        bad_fact(fact, fmt::format("{} and {} are not of the same family", dst, *src));
      out.source_toward.emplace_back(*prefix, src);
      continue;
    }
    bad_fact(fact, fmt::format("expected {}", kFactForms));
  }
  return out;
}

PreviewFacts::PreviewFacts(GivenFacts given, bool offline) : given_(std::move(given)), offline_(offline) {}
PreviewFacts::~PreviewFacts() = default;

Kernel& PreviewFacts::kernel() {
  if (!kernel_) kernel_ = std::make_unique<Kernel>(ScopeMap{{kHostScope, ""}});
  return *kernel_;
}

std::vector<std::string> PreviewFacts::addresses(const std::string& ifname) {
  if (auto it = given_.addresses.find(ifname); it != given_.addresses.end()) return it->second;
  if (offline_) {
    throw ConflictError(fmt::format("no addresses known for host interface '{}' (--offline): give them with "
                                    "--fact {}.addresses=CIDR[,CIDR...]",
                                    ifname, ifname));
  }
  if (!kernel().link_info(kHostScope, ifname)) {
    throw ConflictError(fmt::format("host interface '{}' does not exist here: give its addresses with "
                                    "--fact {}.addresses=CIDR[,CIDR...]",
                                    ifname, ifname));
  }
  std::vector<std::string> out;
  for (const IpPrefix& p : kernel().addresses_of(kHostScope, ifname)) out.push_back(p.str());
  return out;
}

std::optional<std::string> PreviewFacts::source_toward(const std::string& ip) {
  auto dst = IpAddress::parse(ip);
  // As a routing lookup: the most specific given prefix that contains the address answers.
  const std::pair<IpPrefix, std::optional<std::string>>* best = nullptr;
  for (const auto& given : given_.source_toward)
    if (dst && given.first.contains(*dst) && (!best || given.first.len > best->first.len)) best = &given;
  if (best) return best->second;
  if (offline_) {
    throw ConflictError(
        fmt::format("no source address known toward {} (--offline): give it with "
                    "--fact toward.{}=SRC",
                    ip, ip));
  }
  if (!dst) return std::nullopt;
  auto route = kernel().route_toward(kHostScope, *dst);
  if (!route || !route->source) return std::nullopt;
  return route->source->str();
}

std::optional<std::string> PreviewFacts::default_interface(Family family) {
  if (auto it = given_.default_interface.find(family); it != given_.default_interface.end())
    return it->second;
  if (offline_) {
    throw ConflictError(
        fmt::format("no {} default route known (--offline): give its interface with "
                    "--fact default.{}=IFNAME",
                    family_name(family), family_name(family)));
  }
  return kernel().default_route_dev(kHostScope, family);
}

PreviewAllocator::PreviewAllocator(json fixed, Attachment attachment, std::string netns, bool offline)
    : fixed_(std::move(fixed)), attachment_(std::move(attachment)), netns_(std::move(netns)), offline_(offline) {}
PreviewAllocator::~PreviewAllocator() = default;

std::vector<uint32_t> PreviewAllocator::tables(const TableRequest& request, size_t count) {
  if (fixed_.contains(request.name)) {
    const json& v = fixed_[request.name];
    std::vector<uint32_t> out = tables_in(v);
    if (out.size() != count || out.size() != (v.is_array() ? v.size() : 1))
      throw Error(fmt::format("--set-alloc {}: expected {}", request.name,
                              count == 1 ? "a table number" : fmt::format("a list of {} table numbers, e.g. [100,101]", count)));
    return out;
  }
  if (!plugin_choice_) {
    if (!offline_) {
      ScopeMap scopes{{kHostScope, ""}};
      if (!netns_.empty()) scopes[kContainerScope] = netns_;
      kernel_ = std::make_unique<Kernel>(scopes);
    }
    auto journaled = journal_.load(journal_.resolve(attachment_));
    plugin_choice_ = std::make_unique<TableAllocator>(journal_, kernel_.get(), attachment_,
                                                      journaled ? journaled->allocations : json(),
                                                      TableAllocator::Mode::Preview);
  }
  return plugin_choice_->tables(request, count);
}

void PreviewFacts::need_live_host(const char* fact) const {
  if (offline_) throw ConflictError(fmt::format("{} reads the live host, and --offline has no --fact for it", fact));
}

std::optional<nlohmann::json> PreviewFacts::link(const std::string& ifname) {
  need_live_host("host_link");
  auto info = kernel().link_info(kHostScope, ifname);
  if (!info) return std::nullopt;
  return host_link_fact(ifname, info->kind, info->mtu, info->mac, info->up);
}

std::optional<std::string> PreviewFacts::sysctl(const std::string& name) {
  need_live_host("host_sysctl");
  return kernel().read_sysctl(kHostScope, name);
}

bool PreviewFacts::supports_link_kind(const std::string& kind) {
  need_live_host("host_supports_link");
  return kernel().supports_link_kind(kHostScope, kind);
}

// Every interface is an up veth with the usual MTU, every sysctl reads "0", every link kind is there.
std::optional<nlohmann::json> SampleFacts::link(const std::string& ifname) {
  return host_link_fact(ifname, "veth", 1500, "02:00:00:00:00:01", true);
}
std::optional<std::string> SampleFacts::sysctl(const std::string&) { return "0"; }
bool SampleFacts::supports_link_kind(const std::string&) { return true; }

std::vector<std::string> SampleFacts::addresses(const std::string&) { return {"10.10.20.1/24", "fd00:10:20::1/64"}; }

// The interfaces' own addresses, as if every destination were reached through one of them.
std::optional<std::string> SampleFacts::source_toward(const std::string& ip) {
  auto dst = IpAddress::parse(ip);
  return dst && dst->family == Family::V6 ? "fd00:10:20::1" : "10.10.20.1";
}

std::optional<std::string> SampleFacts::default_interface(Family) { return "eth0"; }

std::vector<uint32_t> SampleAllocator::tables(const TableRequest& request, size_t count) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < count; ++i) out.push_back(request.low + static_cast<uint32_t>(i));
  return out;
}

json sample_prev_result() {
  return json::parse(R"({
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/validate"}],
    "ips": [{"address": "10.10.20.50/24", "gateway": "10.10.20.1", "interface": 0},
            {"address": "fd00:10:20::50/64", "gateway": "fd00:10:20::1", "interface": 0}],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.10.20.1"}, {"dst": "10.96.0.0/12"},
               {"dst": "::/0", "gw": "fd00:10:20::1"}]
  })");
}

json sample_ipam_result() {
  return json::parse(R"({
    "cniVersion": "1.0.0",
    "ips": [{"address": "10.10.20.50/24", "gateway": "10.10.20.1"},
            {"address": "fd00:10:20::50/64", "gateway": "fd00:10:20::1"}],
    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
    "dns": {"nameservers": ["10.10.20.53"], "domain": "validate.test", "search": ["validate.test"]}
  })");
}

json sample_config(const std::string& text, SampleBools bools) {
  static const std::map<std::string, json> kSamples = {
      {"string", "sample"},  {"bool", true},          {"int", 1},
      {"ip", "10.10.20.1"},  {"cidr", "10.10.30.0/24"}, {"ifname", "eth0"},
      {"list", json::array()}, {"cidrs", json::array({"10.10.30.0/24"})}};
  json config = {{"cniVersion", "1.0.0"}, {"name", "validate"}, {"type", "validate"}};
  YAML::Node params = YAML::Load(text)["parameters"];
  if (!params.IsMap()) return config;
  for (auto it = params.begin(); it != params.end(); ++it) {
    YAML::Node decl = it->second;
    if (!decl.IsMap()) continue;
    std::string type = decl["type"] ? decl["type"].as<std::string>() : "string";
    if (bools != SampleBools::Defaults && type == "bool") {
      config[it->first.as<std::string>()] = bools == SampleBools::AllTrue;
      continue;
    }
    if (!decl["required"] || decl["required"].as<std::string>() != "true") continue;
    json sample = kSamples.contains(type) ? kSamples.at(type) : json("sample");
    // An int parameter's sample must satisfy its own bounds.
    if (type == "int" && decl["min"]) sample = decl["min"].as<long long>();
    config[it->first.as<std::string>()] = sample;
  }
  return config;
}

}  // namespace topo::cli
