// Kernel: scope handling, the per-scope socket and ifindex caches, and the facts templates ask for
// (link_info, addresses_of, table_is_free, route_toward, default_route_dev). observe() is in
// kernel_observe.cpp, execute() in kernel_execute.cpp.
#include "topo/kernel.h"

#include <linux/rtnetlink.h>

#include <cerrno>

#include "kernel/kernel_context.h"
#include "kinds/address/address_codec.h"
#include "kinds/link/link_probe.h"
#include "kinds/sysctl/sysctl_io.h"
#include "kinds/route/route_codec.h"
#include "kinds/rule/rule_codec.h"
#include "kernel/nft/nat_table.h"
#include "topo/error.h"

namespace topo {

// ---- KernelContext ----

netlink::Socket& KernelContext::socket(const std::string& scope) {
  Conn& c = conns[scope];
  if (!c.socket) {
    // A netlink socket belongs to the namespace it was created in, for good: enter, open, leave.
    NetnsGuard in = namespaces.enter(scope);
    c.socket.emplace(netlink::Socket::open());
  }
  return *c.socket;
}

nft::Context& KernelContext::nft_context(const std::string& scope) {
  auto& ctx = nft_contexts[scope];
  if (!ctx) ctx = std::make_unique<nft::Context>();
  return *ctx;
}

sysctl::Files& KernelContext::sysctls(const std::string& scope) {
  auto& files = sysctl_files[scope];
  if (!files) files = std::make_unique<sysctl::Files>();
  return *files;
}

std::optional<netlink::LinkMsg> KernelContext::get_link(const std::string& scope, const std::string& name,
                                                       int index) {
  netlink::Message m(RTM_GETLINK, 0);
  netlink::encode_get_link(m.builder(), name, index);
  std::optional<netlink::LinkMsg> found;
  auto ack = socket(scope).dump(m.msg(), [&](const nlmsghdr& nlh) { found = netlink::decode_link(nlh); });
  // rtnl_getlink answers ENODEV for an unknown name or index.
  if (ack.err == ENODEV) return std::nullopt;
  if (!ack.ok())
    throw NetlinkError(ack.err, "get link", scope + " " + (index ? "ifindex " + std::to_string(index) : name),
                       ack.ext_ack);
  if (found) {
    Conn& c = conns[scope];
    c.index_by_name[found->name] = found->ifindex;
    c.name_by_index[found->ifindex] = found->name;
  }
  return found;
}

std::optional<int> KernelContext::ifindex(const std::string& scope, const std::string& name) {
  Conn& c = conns[scope];
  if (auto it = c.index_by_name.find(name); it != c.index_by_name.end()) return it->second;
  auto link = get_link(scope, name);
  if (!link) return std::nullopt;
  return link->ifindex;
}

std::optional<std::string> KernelContext::ifname(const std::string& scope, int index) {
  Conn& c = conns[scope];
  if (auto it = c.name_by_index.find(index); it != c.name_by_index.end()) return it->second;
  auto link = get_link(scope, "", index);
  if (!link) return std::nullopt;
  return link->name;
}

void KernelContext::forget_links(const std::string& scope) {
  Conn& c = conns[scope];
  c.index_by_name.clear();
  c.name_by_index.clear();
}

void KernelContext::remember_link(const std::string& scope, const std::string& name, int index) {
  Conn& c = conns[scope];
  if (auto it = c.name_by_index.find(index); it != c.name_by_index.end()) c.index_by_name.erase(it->second);
  if (auto it = c.index_by_name.find(name); it != c.index_by_name.end()) c.name_by_index.erase(it->second);
  c.index_by_name[name] = index;
  c.name_by_index[index] = name;
}

// ---- Kernel ----

Kernel::Kernel(ScopeMap scopes) : impl_(std::make_unique<KernelContext>(std::move(scopes))) {}
Kernel::~Kernel() = default;

bool Kernel::has_scope(const std::string& scope) const { return impl_->has_scope(scope); }

std::optional<LinkInfo> Kernel::link_info(const std::string& scope, const std::string& name) {
  if (!impl_->has_scope(scope)) return std::nullopt;
  auto link = impl_->get_link(scope, name);
  if (!link) return std::nullopt;
  return LinkInfo{link->ifindex, link->mac, link->mtu, link->kind, link->up};
}

std::optional<std::string> Kernel::read_sysctl(const std::string& scope, const std::string& name) {
  if (!impl_->has_scope(scope)) return std::nullopt;
  NetnsGuard in = impl_->namespaces.enter(scope);
  return impl_->sysctls(scope).read(name);
}

bool Kernel::supports_link_kind(const std::string& scope, const std::string& kind) {
  return link_kind_probe(*impl_, scope, kind);
}

std::vector<IpPrefix> Kernel::addresses_of(const std::string& scope, const std::string& ifname) {
  std::vector<IpPrefix> out;
  if (!impl_->has_scope(scope)) return out;
  auto index = impl_->ifindex(scope, ifname);
  if (!index) return out;
  for (Family family : {Family::V4, Family::V6}) {
    netlink::Message m(RTM_GETADDR, NLM_F_DUMP);
    netlink::encode_address_dump(m.builder(), family, *index);
    std::vector<IpPrefix> found;
    auto ack = impl_->socket(scope).dump(
        m.msg(),
        [&](const nlmsghdr& nlh) {
          auto a = netlink::decode_address(nlh);
          // Global scope only: not link-local (253) nor host (254) addresses.
          if (a && a->ifindex == *index && a->ifa_scope == RT_SCOPE_UNIVERSE)
            found.push_back(a->address.local);
        },
        [&] { found.clear(); });
    if (!ack.ok()) throw NetlinkError(ack.err, "list addresses", scope + " dev " + ifname, ack.ext_ack);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::optional<Kernel::RouteToward> Kernel::route_toward(const std::string& scope, const IpAddress& dst) {
  if (!impl_->has_scope(scope)) return std::nullopt;
  // A non-dump RTM_GETROUTE with only RTA_DST: the kernel resolves it as a packet from this host would be
  // (fib lookup + source selection) and answers with one RTM_NEWROUTE.
  netlink::Message m(RTM_GETROUTE, 0);
  auto& rtm = m.builder().header<rtmsg>();
  rtm.rtm_family = static_cast<uint8_t>(dst.family);
  rtm.rtm_dst_len = dst.max_prefix();
  m.builder().put(RTA_DST, dst.bytes.data(), dst.size());
  std::optional<netlink::RouteMsg> found;
  auto ack = impl_->socket(scope).dump(m.msg(), [&](const nlmsghdr& nlh) {
    if (nlh.nlmsg_type == RTM_NEWROUTE) found = netlink::decode_route(nlh);
  });
  if (ack.err == ENETUNREACH || ack.err == EHOSTUNREACH) return std::nullopt;
  if (!ack.ok()) throw NetlinkError(ack.err, "get route", scope + " to " + dst.str(), ack.ext_ack);
  if (!found) return std::nullopt;
  RouteToward out;
  out.source = found->route.src;
  if (found->oif != 0) out.dev = impl_->ifname(scope, static_cast<int>(found->oif)).value_or("");
  return out;
}

std::optional<std::string> Kernel::default_route_dev(const std::string& scope, Family family) {
  if (!impl_->has_scope(scope)) return std::nullopt;
  netlink::Message m(RTM_GETROUTE, NLM_F_DUMP);
  netlink::encode_route_dump(m.builder(), family, kTableMain, 0);
  std::optional<netlink::RouteMsg> best;
  auto ack = impl_->socket(scope).dump(
      m.msg(),
      [&](const nlmsghdr& nlh) {
        auto r = netlink::decode_route(nlh);
        if (!r || r->cloned || r->route.table != kTableMain || r->route.dst.len != 0 || r->oif == 0 ||
            r->route.type != RouteType::Unicast)
          return;
        if (!best || r->route.metric < best->route.metric) best = r;
      },
      [&] { best.reset(); });
  // A namespace that never had an IPv4 route has no main table yet: "FIB table does not exist".
  if (ack.err == ENOENT) return std::nullopt;
  if (!ack.ok()) throw NetlinkError(ack.err, "list routes", scope + " table main", ack.ext_ack);
  if (!best) return std::nullopt;
  return impl_->ifname(scope, static_cast<int>(best->oif));
}

bool Kernel::table_is_free(const std::string& scope, uint32_t table) {
  if (!impl_->has_scope(scope)) return true;
  auto& sock = impl_->socket(scope);
  for (Family family : {Family::V4, Family::V6}) {
    netlink::Message m(RTM_GETROUTE, NLM_F_DUMP);
    netlink::encode_route_dump(m.builder(), family, table, 0);
    bool used = false;
    auto ack = sock.dump(m.msg(), [&](const nlmsghdr& nlh) {
      auto r = netlink::decode_route(nlh);
      if (r && !r->cloned && r->route.table == table) used = true;
    });
    // A filtered dump of a table that does not exist fails with ENOENT ("FIB table does not exist").
    if (ack.err == ENOENT) continue;
    if (!ack.ok())
      throw NetlinkError(ack.err, "list routes", scope + " table " + std::to_string(table), ack.ext_ack);
    if (used) return false;
  }
  for (Family family : {Family::V4, Family::V6}) {
    netlink::Message m(RTM_GETRULE, NLM_F_DUMP);
    netlink::encode_rule_dump(m.builder(), family);
    bool used = false;
    auto ack = sock.dump(m.msg(), [&](const nlmsghdr& nlh) {
      auto r = netlink::decode_rule(nlh);
      if (r && r->rule.table == table) used = true;
    });
    if (!ack.ok()) throw NetlinkError(ack.err, "list rules", scope, ack.ext_ack);
    if (used) return false;
  }
  return true;
}

}  // namespace topo
