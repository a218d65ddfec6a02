// Inputs for rendering a template without running it: host facts and allocations for `topoctl render`
// (given on the command line, else read from the live host as a dry run), and the synthetic inputs
// `topoctl validate` renders with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/journal.h"
#include "topo/kernel.h"
#include "topo/model/ip.h"
#include "topo/template/template.h"

namespace topo::cli {

// The host facts given with --fact (docs/topoctl.md#render):
//   NAME.addresses=CIDR[,CIDR...]  host_addresses(NAME); NAME is an interface, or a key of `config` whose
//   value
//                                  is one (so `--fact hostInterface.addresses=...` works with the parameter's
//                                  name)
//   default.ipv4=IFNAME            host_default_interface(4); empty: the host has no default route
//   default.ipv6=IFNAME            host_default_interface(6)
//   toward.DST=SRC                 host_source_toward(an address in DST); DST an address or CIDR (the longest
//                                  one containing the address answers), SRC an address; empty: no route
struct GivenFacts {
  std::map<std::string, std::vector<std::string>> addresses;
  std::map<Family, std::optional<std::string>> default_interface;
  std::vector<std::pair<IpPrefix, std::optional<std::string>>> source_toward;
};
GivenFacts parse_facts(const std::vector<std::string>& facts, const nlohmann::json& config);

// The facts given with --fact; the others from the live host unless `offline`.
class PreviewFacts : public HostFacts {
 public:
  PreviewFacts(GivenFacts given, bool offline);
  ~PreviewFacts() override;
  std::vector<std::string> addresses(const std::string& ifname) override;
  std::optional<std::string> source_toward(const std::string& ip) override;
  std::optional<std::string> default_interface(Family family) override;
  std::optional<nlohmann::json> link(const std::string& ifname) override;
  std::optional<std::string> sysctl(const std::string& name) override;
  bool supports_link_kind(const std::string& kind) override;

 private:
  Kernel& kernel();
  void need_live_host(const char* fact) const;

  GivenFacts given_;
  bool offline_;
  std::unique_ptr<Kernel> kernel_;  // opened on first use: a render with every fact given needs no kernel
};

// Allocations as ADD would make them, reserving nothing: a `--set-alloc` value; else the attachment's
// journaled one; else the plugin's own choice (TableAllocator in preview mode), with the kernel checks in the
// host and, when `netns` is given, the pod namespace — none when `offline`.
class PreviewAllocator : public Allocator {
 public:
  PreviewAllocator(nlohmann::json fixed, Attachment attachment, std::string netns, bool offline);
  ~PreviewAllocator() override;
  std::vector<uint32_t> tables(const TableRequest& request, size_t count) override;

 private:
  nlohmann::json fixed_;
  Attachment attachment_;
  std::string netns_;
  bool offline_;
  Journal journal_;
  std::unique_ptr<Kernel> kernel_;           // opened on first use: a template without allocations needs none
  std::unique_ptr<Allocator> plugin_choice_;
};

// validate: every interface has one IPv4 and one IPv6 address (10.10.20.1/24, fd00:10:20::1/64), eth0 holds
// both default routes, and those addresses are the source toward anywhere; every table is the low end of its
// range.
class SampleFacts : public HostFacts {
 public:
  std::optional<nlohmann::json> link(const std::string& ifname) override;
  std::optional<std::string> sysctl(const std::string& name) override;
  bool supports_link_kind(const std::string& kind) override;
  std::vector<std::string> addresses(const std::string& ifname) override;
  std::optional<std::string> source_toward(const std::string& ip) override;
  std::optional<std::string> default_interface(Family family) override;
};
class SampleAllocator : public Allocator {
 public:
  std::vector<uint32_t> tables(const TableRequest& request, size_t count) override;
};

// A prevResult with one IPv4 and one IPv6 address on eth0, their gateways and default routes.
nlohmann::json sample_prev_result();
// An IPAM result for `validate` to render a template with `ipam: true` (IPv4 and IPv6, routes, dns).
nlohmann::json sample_ipam_result();

// How sample_config sets the bool parameters: as the template's defaults, or every one true or false, so
// validate renders the items behind `when: params.x` and the ones behind `when: not params.x`.
enum class SampleBools { Defaults, AllTrue, AllFalse };

// A network config giving each required parameter of the template `text` a sample of its type (optional ones
// take their defaults), bool parameters as `bools` says. The template must have loaded (Template::load)
// already.
nlohmann::json sample_config(const std::string& text, SampleBools bools);

}  // namespace topo::cli
