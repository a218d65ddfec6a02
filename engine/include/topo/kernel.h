// The kernel side: observe the objects a spec is about, and execute changes. Real netlink (libmnl) for links,
// addresses, routes and rules; libnftnl for NAT (our own table only); /proc/sys for sysctls. One netlink socket per scope, opened
// inside the scope's namespace on first use.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "topo/model/state.h"
#include "topo/netns.h"
#include "topo/plan.h"

namespace topo {

class KernelContext;

struct LinkInfo {
  int ifindex{0};
  std::string mac;  // "aa:bb:cc:dd:ee:ff"
  uint32_t mtu{0};
  std::string kind;  // IFLA_INFO_KIND, "" for none
  bool up{false};    // IFF_UP
};

class Kernel {
 public:
  explicit Kernel(ScopeMap scopes);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Whether the scope is mapped and its namespace exists.
  bool has_scope(const std::string& scope) const;

  // Reads what the kernel has for the keys in `interest`, with filtered dumps only (one link by name, one
  // interface's addresses, one table [and interface] of routes, one family of rules, topocni's own nftables
  // table). Returns only objects whose key is in `interest`, plus, for a veth in `interest` whose peer name is
  // taken in the peer scope by something that is not its peer, that link. NAT: every rule of ours whose
  // owner is an owner in `interest`. Objects in unavailable scopes are skipped.
  State observe(const State& interest);

  // Executes `changes` in order, each run of consecutive changes of one kind in one scope through that kind's
  // unit (address and route runs go in netlink batches, NAT runs in one nftables transaction). On failure
  // throws (NetlinkError, SystemError); `progress` then says which changes took effect and which one failed,
  // so the caller (plan/executor.h, the one undo path) can undo exactly those.
  void execute(const std::vector<Change>& changes, Progress& progress);

  // Test-only: a hook run before every change (fault injection); the plugin installs one only when a test
  // asks for it in the environment. Production code pays one empty-function check per change.
  void set_change_hook(Progress::Hook hook);

  // The scopes' sockets and caches, for the kinds' units and the lifecycle's mark search.
  KernelContext& context() { return *impl_; }

  // Facts for templates and results.
  std::optional<LinkInfo> link_info(const std::string& scope, const std::string& name);
  std::vector<IpPrefix> addresses_of(const std::string& scope, const std::string& ifname);  // global scope only
  // A sysctl of the scope's namespace ("net.ipv4.ip_forward"), without its trailing newline; nullopt when it
  // does not exist. Throws Error for a name outside /proc/sys.
  std::optional<std::string> read_sysctl(const std::string& scope, const std::string& name);
  // Whether the kernel can create links of `kind` ("vrf", "vlan"...), loading its module as `ip link add`
  // would. Creates nothing: see kinds/link/link_probe.cpp.
  bool supports_link_kind(const std::string& scope, const std::string& kind);
  // True when no route is in `table` (either family) and no rule points to it.
  bool table_is_free(const std::string& scope, uint32_t table);
  // The kernel's answer to "ip route get DST" in the scope: the source address it would pick (RTA_PREFSRC)
  // and the device. Nullopt when the destination is unreachable (ENETUNREACH, EHOSTUNREACH).
  struct RouteToward {
    std::optional<IpAddress> source;
    std::string dev;  // "" when the kernel names none (e.g. a blackhole)
  };
  std::optional<RouteToward> route_toward(const std::string& scope, const IpAddress& dst);
  // The device of the main table's default route of `family` with the lowest metric; nullopt when there is
  // none with a single device (none at all, or only multipath/blackhole ones).
  std::optional<std::string> default_route_dev(const std::string& scope, Family family);

 private:
  std::unique_ptr<KernelContext> impl_;
};

}  // namespace topo
