// Stand-ins for the kernel-backed HostFacts and Allocator, and helpers shared by the template tests.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <algorithm>

#include "topo/error.h"
#include "topo/template/template.h"

namespace topo::test {

class FakeFacts : public HostFacts {
 public:
  std::map<std::string, std::vector<std::string>> addrs;
  std::vector<std::string> addresses(const std::string& ifname) override {
    auto it = addrs.find(ifname);
    if (it == addrs.end()) throw ConflictError("host interface " + ifname + " does not exist");
    return it->second;
  }
  std::map<std::string, std::string> sources;  // destination -> source address
  std::map<Family, std::string> defaults;       // family -> default route interface
  std::optional<std::string> source_toward(const std::string& ip) override {
    auto it = sources.find(ip);
    if (it == sources.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> default_interface(Family family) override {
    auto it = defaults.find(family);
    if (it == defaults.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, nlohmann::json> links;  // name -> {name, kind, mtu, mac, up}
  std::optional<nlohmann::json> link(const std::string& ifname) override {
    auto it = links.find(ifname);
    if (it == links.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, std::string> sysctls;
  std::optional<std::string> sysctl(const std::string& name) override {
    auto it = sysctls.find(name);
    if (it == sysctls.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> kinds;  // link kinds the fake kernel has
  bool supports_link_kind(const std::string& kind) override {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  }
};

class FakeAllocator : public Allocator {
 public:
  uint32_t next{10007};
  std::vector<std::string> calls;  // "name:low-high", then ":container" / ":lowest" / "xN" when not the default
  std::vector<uint32_t> tables(const TableRequest& r, size_t count) override {
    std::string call = r.name + ":" + std::to_string(r.low) + "-" + std::to_string(r.high);
    if (r.scope == AllocScope::Container) call += ":container";
    if ((r.pick == AllocPick::Lowest) != (r.scope == AllocScope::Container)) call += r.pick == AllocPick::Lowest ? ":lowest" : ":spread";
    if (count != 1) call += "x" + std::to_string(count);
    calls.push_back(call);
    std::vector<uint32_t> out;
    for (size_t i = 0; i < count; ++i) out.push_back(next++);
    return out;
  }
};

// The SpecError `f` throws; the test fails when it throws none.
template <class F>
SpecError spec_error_of(F&& f) {
  try {
    f();
  } catch (const SpecError& e) {
    return e;
  }
  FAIL("no SpecError");
  throw;  // not reached: FAIL throws
}

}  // namespace topo::test
