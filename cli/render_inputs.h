// Inputs for rendering a template without running it: host facts and allocations for `topoctl render`
// (given on the command line, else read from the live host as a dry run), and the synthetic inputs
// `topoctl validate` renders with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/journal.h"
#include "topo/kernel.h"
#include "topo/template/template.h"

namespace topo::cli {

// `--fact NAME.addresses=CIDR[,CIDR...]`. NAME is an interface, or a key of `config` whose value is one (so
// `--fact hostInterface.addresses=...` works with the parameter's name).
std::map<std::string, std::vector<std::string>> parse_facts(const std::vector<std::string>& facts,
                                                            const nlohmann::json& config);

// The addresses given with --fact; other interfaces from the live host unless `offline`.
class PreviewFacts : public HostFacts {
 public:
  PreviewFacts(std::map<std::string, std::vector<std::string>> given, bool offline);
  ~PreviewFacts() override;
  std::vector<std::string> addresses(const std::string& ifname) override;

 private:
  std::map<std::string, std::vector<std::string>> given_;
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

// validate: every interface has one IPv4 and one IPv6 address; every table is the low end of its range.
class SampleFacts : public HostFacts {
 public:
  std::vector<std::string> addresses(const std::string& ifname) override;
};
class SampleAllocator : public Allocator {
 public:
  std::vector<uint32_t> tables(const TableRequest& request, size_t count) override;
};

// A prevResult with one IPv4 and one IPv6 address on eth0, their gateways and default routes.
nlohmann::json sample_prev_result();

// A network config giving each required parameter of the template `text` a sample of its type (optional ones
// take their defaults); with `bools_on`, every bool parameter is true, so items behind `when:` flags render
// too. The template must have loaded (Template::load) already.
nlohmann::json sample_config(const std::string& text, bool bools_on);

}  // namespace topo::cli
