#include "render_inputs.h"

#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "topo/error.h"
#include "topo/hash.h"
#include "topo/model/scope.h"
#include "topo/table_allocator.h"

namespace topo::cli {

using nlohmann::json;

std::map<std::string, std::vector<std::string>> parse_facts(const std::vector<std::string>& facts,
                                                            const json& config) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& fact : facts) {
    size_t eq = fact.find('=');
    std::string key = fact.substr(0, eq);
    const std::string suffix = ".addresses";
    if (eq == std::string::npos || key.size() <= suffix.size() || !key.ends_with(suffix)) {
      throw Error(fmt::format("--fact '{}': expected IFNAME.addresses=CIDR[,CIDR...]", fact));
    }
    std::string name = key.substr(0, key.size() - suffix.size());
    if (config.is_object() && config.contains(name) && config[name].is_string()) name = config[name].get<std::string>();
    std::vector<std::string>& list = out[name];
    std::stringstream ss(fact.substr(eq + 1));
    for (std::string cidr; std::getline(ss, cidr, ',');) {
      if (cidr.empty()) continue;
      if (!IpPrefix::parse(cidr)) throw Error(fmt::format("--fact '{}': '{}' is not an address/prefix", fact, cidr));
      list.push_back(cidr);
    }
  }
  return out;
}

PreviewFacts::PreviewFacts(std::map<std::string, std::vector<std::string>> given, bool offline)
    : given_(std::move(given)), offline_(offline) {}
PreviewFacts::~PreviewFacts() = default;

std::vector<std::string> PreviewFacts::addresses(const std::string& ifname) {
  if (auto it = given_.find(ifname); it != given_.end()) return it->second;
  if (offline_) {
    throw ConflictError(fmt::format("no addresses known for host interface '{}' (--offline): give them with "
                                    "--fact {}.addresses=CIDR[,CIDR...]",
                                    ifname, ifname));
  }
  if (!kernel_) kernel_ = std::make_unique<Kernel>(ScopeMap{{kHostScope, ""}});
  if (!kernel_->link_info(kHostScope, ifname)) {
    throw ConflictError(fmt::format("host interface '{}' does not exist here: give its addresses with "
                                    "--fact {}.addresses=CIDR[,CIDR...]",
                                    ifname, ifname));
  }
  std::vector<std::string> out;
  for (const IpPrefix& p : kernel_->addresses_of(kHostScope, ifname)) out.push_back(p.str());
  return out;
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
    auto journaled = journal_.load(attachment_);
    plugin_choice_ = std::make_unique<TableAllocator>(journal_, kernel_.get(), attachment_,
                                                      journaled ? journaled->allocations : json(),
                                                      TableAllocator::Mode::Preview);
  }
  return plugin_choice_->tables(request, count);
}

std::vector<std::string> SampleFacts::addresses(const std::string&) { return {"10.10.20.1/24", "fd00:10:20::1/64"}; }

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

json sample_config(const std::string& text, bool bools_on) {
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
    if (bools_on && type == "bool") {
      config[it->first.as<std::string>()] = true;
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
