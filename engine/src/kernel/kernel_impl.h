// Kernel::Impl: scope → namespace path, one netlink socket per scope (opened lazily inside that namespace)
// and per-scope ifindex caches. Shared by kernel.cpp (facts), kernel_observe.cpp and kernel_execute.cpp.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "kinds/link/link_codec.h"
#include "kernel/netlink/socket.h"
#include "kernel/nft/context.h"
#include "kinds/sysctl/sysctl_io.h"
#include "topo/kernel.h"

namespace topo {

struct Kernel::Impl {
  explicit Impl(ScopeMap s) : scopes(std::move(s)) {}

  ScopeMap scopes;

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

  bool has_scope(const std::string& scope) const;
  // While observe() runs: which scopes were available when it started. One stat() per scope instead of one
  // per object (10,000 routes made that a fifth of a no-op apply).
  std::optional<std::map<std::string, bool>> available;
  // The namespace path of an available scope; throws SystemError(ENOENT) when the scope is unavailable.
  const std::string& path(const std::string& scope) const;
  // The scope's socket, opened inside its namespace on first use.
  netlink::Socket& socket(const std::string& scope);

  // RTM_GETLINK of one link (by name, or by index when ifindex != 0); nullopt when there is none (ENODEV).
  std::optional<netlink::LinkMsg> get_link(const std::string& scope, const std::string& name,
                                           int ifindex = 0);
  std::optional<int> ifindex(const std::string& scope, const std::string& name);
  std::optional<std::string> ifname(const std::string& scope, int ifindex);
  // After a link is created or deleted its name may map to another index: drop what we knew.
  void forget_links(const std::string& scope);

  // kernel_observe.cpp
  State observe(const State& interest);
  void observe_links(const State& interest, State& out);
  void observe_addresses(const State& interest, State& out);
  void observe_routes(const State& interest, State& out);
  void observe_rules(const State& interest, State& out);
  void observe_sysctls(const State& interest, State& out);
  void observe_nat(const State& interest, State& out);

  // kernel_execute.cpp
  void execute(const std::vector<Change>& changes, size_t& done);
  // Address and route changes [begin, end), all in one scope, in netlink batches.
  void execute_batched(const std::vector<Change>& changes, size_t begin, size_t end, size_t& done);
  // NAT changes [begin, end), all in one scope, in one nftables transaction.
  void execute_nat(const std::vector<Change>& changes, size_t begin, size_t end, size_t& done);
  void execute_link(const Change& c);
  void execute_rule(const Change& c);
  void execute_sysctl(const Change& c);
  void create_veth(const Link& l);
  void delete_veth(const Link& l);
};

}  // namespace topo
