// KernelContext: scope → namespace path, one netlink socket per scope (opened lazily inside that namespace)
// and per-scope ifindex caches: what every kind's kernel code (kinds/<kind>/<kind>_kernel.cpp) works with.
// Kernel (topo/kernel.h) owns one; kernel.cpp answers facts, kernel_observe.cpp and kernel_execute.cpp
// dispatch to the kinds.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "kinds/link/link_codec.h"
#include "kernel/netlink/socket.h"
#include "kernel/scope_namespaces.h"
#include "kernel/nft/context.h"
#include "kinds/sysctl/sysctl_io.h"
#include "kinds/kind_ops.h"
#include "topo/kernel.h"

namespace topo {

class KernelContext {
 public:
  explicit KernelContext(ScopeMap s) : scopes(std::move(s)), namespaces(scopes) {}

  const ScopeMap scopes;
  ScopeNamespaces namespaces;  // each scope's namespace, opened once

  struct Conn {
    std::optional<netlink::Socket> socket;
    std::unordered_map<std::string, int> index_by_name;  // positive lookups only
    std::unordered_map<int, std::string> name_by_index;
  };
  std::map<std::string, Conn> conns;
  // One nf_tables netlink socket per scope, opened inside its namespace on first use and closed with the Kernel:
  // see nft/nat_table.h for why its socket must outlive the commit.
  std::map<std::string, std::unique_ptr<nft::Context>> nft_contexts;
  nft::Context& nft_context(const std::string& scope);  // the caller is inside the scope's namespace
  // The scope's /proc/sys files, through directories opened on first use (see sysctl_io.h for why).
  std::map<std::string, std::unique_ptr<sysctl::Files>> sysctl_files;
  sysctl::Files& sysctls(const std::string& scope);  // the caller is inside the scope's namespace

  // The scope is mapped and its namespace there (checked once per Kernel: see scope_namespaces.h).
  bool has_scope(const std::string& scope) { return namespaces.present(scope); }
  // The scope's socket, opened inside its namespace on first use.
  netlink::Socket& socket(const std::string& scope);

  // RTM_GETLINK of one link (by name, or by index when ifindex != 0); nullopt when there is none (ENODEV).
  std::optional<netlink::LinkMsg> get_link(const std::string& scope, const std::string& name,
                                           int ifindex = 0);
  std::optional<int> ifindex(const std::string& scope, const std::string& name);
  std::optional<std::string> ifname(const std::string& scope, int ifindex);
  // After a link is created or deleted its name may map to another index: drop what we knew.
  void forget_links(const std::string& scope);
  // A link this process has just named (created, or renamed from its staged name): the requests that follow
  // (its addresses, the result's MAC) find its index without another RTM_GETLINK.
  void remember_link(const std::string& scope, const std::string& name, int ifindex);

  // Fault injection for tests: run before every change (see Progress::attempt); empty in production.
  Progress::Hook before_change;
};

}  // namespace topo
