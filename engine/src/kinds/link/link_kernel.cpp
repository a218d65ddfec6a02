// The link kind's kernel I/O: one RTM_GETLINK per named end, veth pairs created across namespaces, changed in
// place (mtu, up, alias) and deleted through either end.
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "kernel/kernel_context.h"
#include "kinds/link/link_codec.h"
#include "kinds/link/link_ops.h"
#include "topo/error.h"

namespace topo {

namespace {

Link link_from(const netlink::LinkMsg& m, const std::string& scope) {
  Link l;
  l.scope = scope;
  l.name = m.name;
  l.kind = m.kind == "veth" ? LinkKind::Veth : LinkKind::Existing;
  l.mtu = m.mtu;
  l.up = m.up;
  l.alias = m.alias;
  l.owned = is_owner_text(m.alias);
  return l;
}

// Two veth ends are each other's peer when each one's IFLA_LINK is the other's ifindex (veth_get_iflink).
bool are_peers(const netlink::LinkMsg& a, const netlink::LinkMsg& b) {
  return a.kind == "veth" && b.kind == "veth" && a.link == b.ifindex && b.link == a.ifindex;
}

// An fd for IFLA_NET_NS_FD; "" is the namespace the process runs in.
class NetnsFd {
 public:
  explicit NetnsFd(const std::string& path) {
    const std::string& p = path.empty() ? std::string("/proc/self/ns/net") : path;
    fd_ = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw SystemError(errno, "open network namespace " + p);
  }
  ~NetnsFd() { ::close(fd_); }
  NetnsFd(const NetnsFd&) = delete;
  NetnsFd& operator=(const NetnsFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void check(const netlink::Ack& ack, const std::string& op, const std::string& object) {
  if (!ack.ok()) throw NetlinkError(ack.err, op, object, ack.ext_ack);
}

const std::string& peer_scope_of(const Link& l) { return l.peer_scope.empty() ? l.scope : l.peer_scope; }

void create_veth(KernelContext& k, const Link& l) {
  const std::string& peer_scope = peer_scope_of(l);
  std::string object = describe(l);
  {
    NetnsFd peer_ns(k.path(peer_scope));
    netlink::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    netlink::encode_veth_create(m.builder(), l, peer_ns.get());
    check(k.socket(l.scope).ack(m.msg()), "create link", object);
  }
  k.forget_links(l.scope);
  k.forget_links(peer_scope);
  // rtnl_newlink's create path ignores IFLA_IFALIAS: the alias that marks both ends as ours is set
  // afterwards, and the peer is brought up in the same request (see encode_veth_create). If that fails, the
  // pair must not stay behind unmarked (it would never be recognised as ours).
  try {
    struct End {
      const std::string& scope;
      const std::string& name;
      std::optional<bool> up;
    };
    for (const End& end : {End{l.scope, l.name, std::nullopt}, End{peer_scope, l.peer_name, l.up}}) {
      auto index = k.ifindex(end.scope, end.name);
      if (!index) throw NetlinkError(ENODEV, "set link alias", object, "veth end " + end.name + " vanished");
      netlink::Message m(RTM_NEWLINK, 0);
      netlink::encode_link_set(m.builder(), *index, std::nullopt, end.up, &l.alias);
      check(k.socket(end.scope).ack(m.msg()), "set link alias", object);
    }
  } catch (...) {
    if (auto index = k.ifindex(l.scope, l.name)) {
      netlink::Message m(RTM_DELLINK, 0);
      netlink::encode_link_delete(m.builder(), *index);
      k.socket(l.scope).ack(m.msg());
      k.forget_links(l.scope);
      k.forget_links(peer_scope);
    }
    throw;
  }
}

void delete_veth(KernelContext& k, const Link& l) {
  const std::string& peer_scope = peer_scope_of(l);
  std::string scope = l.scope;
  std::optional<int> index;
  if (k.has_scope(l.scope)) index = k.ifindex(l.scope, l.name);
  if (!index && !l.peer_name.empty() && k.has_scope(peer_scope)) {
    // Only the other end is left. It is deleted only if it carries our mark: a link of someone else that
    // happens to have the peer's name is not ours to remove.
    auto peer = k.get_link(peer_scope, l.peer_name);
    if (peer && peer->kind == "veth" && is_owner_text(peer->alias)) {
      index = peer->ifindex;
      scope = peer_scope;
    }
  }
  if (!index) return;  // both ends are gone already: nothing left to delete
  netlink::Message m(RTM_DELLINK, 0);
  netlink::encode_link_delete(m.builder(), *index);
  // Deleting one end of a veth deletes its peer too (veth_dellink), whichever namespace it is in.
  check(k.socket(scope).ack(m.msg()), "delete link", describe(l));
  k.forget_links(l.scope);
  k.forget_links(peer_scope);
}

void change_veth(KernelContext& k, const Change& c) {
  const Link& l = std::get<Link>(c.object);
  const Link* prev = c.previous ? std::get_if<Link>(&*c.previous) : nullptr;
  bool same_pair = prev && prev->scope == l.scope && prev->name == l.name && prev->peer_scope == l.peer_scope &&
                   prev->peer_name == l.peer_name;
  if (!same_pair) {
    if (prev) delete_veth(k, *prev);
    create_veth(k, l);
    return;
  }
  // Same pair: change mtu, up and alias in place on both ends. An mtu no longer given goes back to veth's
  // default.
  std::optional<uint32_t> mtu;
  if (prev->mtu != l.mtu) mtu = l.mtu.value_or(1500);
  std::optional<bool> up;
  if (prev->up != l.up) up = l.up;
  const std::string* alias = prev->alias != l.alias ? &l.alias : nullptr;
  std::string object = describe(l);
  for (const auto& [scope, name] : {std::pair{l.scope, l.name}, std::pair{peer_scope_of(l), l.peer_name}}) {
    auto index = k.ifindex(scope, name);
    if (!index) throw NetlinkError(ENODEV, "change link", object, "veth end " + name + " not found in scope " + scope);
    netlink::Message m(RTM_NEWLINK, 0);
    netlink::encode_link_set(m.builder(), *index, mtu, up, alias);
    check(k.socket(scope).ack(m.msg()), "change link", object);
  }
}

}  // namespace

void KindOps<Link>::observe(KernelContext& k, const std::vector<Link>& interest, std::vector<Link>& out) {
  std::set<std::pair<std::string, std::string>> emitted;
  auto emit = [&](Link l) {
    if (emitted.emplace(l.scope, l.name).second) out.push_back(std::move(l));
  };
  for (const Link& want : interest) {
    if (!k.has_scope(want.scope)) continue;
    auto self = k.get_link(want.scope, want.name);
    bool veth = want.kind == LinkKind::Veth && !want.peer_name.empty();
    const std::string& peer_scope = peer_scope_of(want);
    std::optional<netlink::LinkMsg> peer;
    if (veth && k.has_scope(peer_scope)) peer = k.get_link(peer_scope, want.peer_name);

    if (!self) {
      // Only the other end exists (or something else has its name): report it as its own link.
      if (peer) emit(link_from(*peer, peer_scope));
      continue;
    }
    Link got = link_from(*self, want.scope);
    // Without an mtu in the spec the kernel's value is not ours to compare.
    if (!want.mtu) got.mtu.reset();
    if (peer && are_peers(*self, *peer)) {
      got.peer_scope = want.peer_scope;
      got.peer_name = want.peer_name;
    } else if (peer) {
      // The peer name is taken by a link that is not this one's peer: the diff reports the conflict.
      emit(link_from(*peer, peer_scope));
    }
    emit(std::move(got));
  }
}

void KindOps<Link>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                            Progress& p) {
  for (size_t i = begin; i < end; ++i) {
    const Change& c = changes[i];
    p.attempt(i, c);
    const Link& l = std::get<Link>(c.object);
    const Link* prev = c.previous ? std::get_if<Link>(&*c.previous) : nullptr;
    if (l.kind == LinkKind::Existing || (prev && prev->kind == LinkKind::Existing))
      throw ConflictError(operation_of(c) + " " + describe(l) + ": existing links are never created, changed or deleted");
    switch (c.action) {
      case Action::Create: create_veth(k, l); break;
      case Action::Delete: delete_veth(k, l); break;
      case Action::Replace: change_veth(k, c); break;
    }
    p.took_effect(i);
  }
}

// A link whose namespace went away took the pair with it.
bool KindOps<Link>::already_gone(const Change& c, int err) { return c.action == Action::Delete && err == ENODEV; }

}  // namespace topo
