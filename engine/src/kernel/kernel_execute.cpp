// Kernel::execute: changes in order, with an exact count of those that took effect.
//
// Address and route changes that follow each other in one scope go to the kernel in netlink batches (many
// requests per sendmsg, each ACKed): 10,000 routes cost a few sendmsg calls instead of 10,000 round trips.
// rtnetlink handles the requests of a batch one after the other and goes on after a failed one
// (netlink_rcv_skb), so a batch can end with successes after the first failure. We report as done only the
// changes before the first failure, and undo the later successes right away (in reverse order, each with its
// inverse request), so the kernel matches `done` exactly. An undo that itself fails is reported on stderr:
// the original error is what the caller gets.
//
// Test-only failure injection: with TOPOCNI_TEST_FAIL_AT=N in the environment, the N-th change this process
// executes (1-based, counted across execute() calls) fails with NetlinkError(EIO, "injected failure", ...)
// before it takes effect. Tests use it to check `done` and the caller's rollback.
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "kernel/kernel_impl.h"
#include "kinds/address/address_codec.h"
#include "kinds/link/link_codec.h"
#include "kinds/route/route_codec.h"
#include "kinds/rule/rule_codec.h"
#include "kernel/nft/nat_table.h"
#include "kinds/sysctl/sysctl_io.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo {

namespace {

size_t g_executed = 0;  // changes this process has started executing (failure injection counts these)

// Counts one change about to be executed; true when it is the one TOPOCNI_TEST_FAIL_AT names.
bool inject_failure_now() {
  ++g_executed;
  // Test-only crash injection: TOPOCNI_TEST_KILL_AT=N kills the process (SIGKILL, no cleanup of any kind)
  // before its N-th change, so tests can crash an ADD at every step boundary.
  if (const char* kill_at = std::getenv("TOPOCNI_TEST_KILL_AT");
      kill_at && *kill_at && std::strtoull(kill_at, nullptr, 10) == g_executed)
    ::raise(SIGKILL);
  const char* at = std::getenv("TOPOCNI_TEST_FAIL_AT");
  if (!at || !*at) return false;
  char* end = nullptr;
  unsigned long long n = std::strtoull(at, &end, 10);
  return end && *end == '\0' && n == g_executed;
}

NetlinkError injected(const Change& c) {
  return NetlinkError(EIO, "injected failure", describe(c.object), "");
}

const char* verb(Action a) {
  switch (a) {
    case Action::Create:
      return "create";
    case Action::Delete:
      return "delete";
    case Action::Replace:
      return "replace";
  }
  return "change";
}

std::string operation(const Change& c) {
  return std::string(verb(c.action)) + " " + std::string(kind_name(c.object));
}

bool is_batched(const Object& o) {
  return std::holds_alternative<Address>(o) || std::holds_alternative<Route>(o);
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

}  // namespace

void Kernel::execute(const std::vector<Change>& changes, size_t& done) { impl_->execute(changes, done); }

void Kernel::Impl::execute(const std::vector<Change>& changes, size_t& done) {
  done = 0;
  size_t i = 0;
  while (i < changes.size()) {
    const Object& o = changes[i].object;
    const std::string& scope = scope_of(o);
    auto same_group = [&](size_t j, bool (*kind)(const Object&)) {
      return j < changes.size() && kind(changes[j].object) && scope_of(changes[j].object) == scope;
    };
    if (is_batched(o)) {
      size_t j = i;
      while (same_group(j, is_batched)) ++j;
      execute_batched(changes, i, j, done);
      i = j;
    } else if (std::holds_alternative<NatEntry>(o)) {
      auto is_nat = [](const Object& x) { return std::holds_alternative<NatEntry>(x); };
      size_t j = i;
      while (same_group(j, is_nat)) ++j;
      execute_nat(changes, i, j, done);
      i = j;
    } else {
      const Change& c = changes[i];
      if (inject_failure_now()) throw injected(c);
      if (std::holds_alternative<Link>(o))
        execute_link(c);
      else if (std::holds_alternative<Rule>(o))
        execute_rule(c);
      else
        execute_sysctl(c);
      ++done;
      ++i;
    }
  }
}

// ---- addresses and routes, batched ----

namespace {

// The request that makes `c` happen (or, with `undo`, the one that reverses it), written into `b`.
struct Encoded {
  uint16_t type;
  uint16_t flags;
};

Encoded request_of(Action action, const Object& o) {
  bool route = std::holds_alternative<Route>(o);
  switch (action) {
    case Action::Create:
      return {route ? RTM_NEWROUTE : RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL};
    case Action::Replace:
      // In place: NLM_F_REPLACE swaps the route with the same key (fib_table_insert / ip6_route_add) and
      // updates an existing address's flags (inet6_addr_modify).
      return {route ? RTM_NEWROUTE : RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE};
    case Action::Delete:
      return {route ? RTM_DELROUTE : RTM_DELADDR, 0};
  }
  return {0, 0};
}

// The interface index a change needs; throws NetlinkError(ENODEV) before anything is sent when it is missing.
template <class Impl>
uint32_t oif_of(Impl& impl, const Object& o, const std::string& op) {
  const std::string& scope = scope_of(o);
  const std::string& dev =
      std::holds_alternative<Route>(o) ? std::get<Route>(o).dev : std::get<Address>(o).dev;
  if (dev.empty()) return 0;
  auto index = impl.ifindex(scope, dev);
  if (!index) throw NetlinkError(ENODEV, op, describe(o), "device " + dev + " not found in scope " + scope);
  return static_cast<uint32_t>(*index);
}

void encode(netlink::Builder& b, Action action, const Object& o, uint32_t oif) {
  if (const auto* r = std::get_if<Route>(&o)) {
    if (action == Action::Delete)
      netlink::encode_route_delete(b, *r, oif);
    else
      netlink::encode_route(b, *r, oif);
  } else {
    netlink::encode_address(b, std::get<Address>(o), static_cast<int>(oif));
  }
}

// The inverse of an address/route change: Create ↔ Delete of the object; Replace puts `previous` back.
std::pair<Action, const Object*> inverse_of(const Change& c) {
  switch (c.action) {
    case Action::Create:
      return {Action::Delete, &c.object};
    case Action::Delete:
      return {Action::Create, &c.object};
    case Action::Replace:
      return {Action::Replace, c.previous ? &*c.previous : &c.object};
  }
  return {Action::Delete, &c.object};
}

}  // namespace

void Kernel::Impl::execute_batched(const std::vector<Change>& changes, size_t begin, size_t end,
                                   size_t& done) {
  const std::string& scope = scope_of(changes[begin].object);
  netlink::Socket& sock = socket(scope);
  netlink::Batch batch(sock.batch_limit());
  size_t next = begin;
  while (next < end) {
    batch.clear();
    std::vector<size_t> index;  // change index of each request in the batch
    std::exception_ptr stop;    // a change that failed before being sent: the batch ends before it
    while (next < end && !batch.full()) {
      const Change& c = changes[next];
      if (inject_failure_now()) {
        stop = std::make_exception_ptr(injected(c));
        break;
      }
      try {
        uint32_t oif = oif_of(*this, c.object, operation(c));
        auto req = request_of(c.action, c.object);
        netlink::Builder b = batch.add(req.type, req.flags);
        try {
          encode(b, c.action, c.object, oif);
        } catch (...) {
          batch.cancel();
          throw;
        }
      } catch (...) {
        stop = std::current_exception();
        break;
      }
      index.push_back(next++);
    }

    auto answers = sock.batch(batch);
    size_t failed = answers.size();
    for (size_t k = 0; k < answers.size(); ++k)
      if (!answers[k].ok()) {
        failed = k;
        break;
      }
    done += failed;
    if (failed < answers.size()) {
      // Later requests of the batch were still processed: undo those that succeeded, newest first.
      for (size_t k = answers.size(); k-- > failed + 1;) {
        if (!answers[k].ok()) continue;
        const Change& c = changes[index[k]];
        auto [action, object] = inverse_of(c);
        try {
          auto req = request_of(action, *object);
          netlink::Message m(req.type, req.flags);
          encode(m.builder(), action, *object, oif_of(*this, *object, "undo"));
          auto ack = sock.ack(m.msg());
          if (!ack.ok())
            throw NetlinkError(ack.err, std::string("undo ") + operation(c), describe(c.object), ack.ext_ack);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "topocni: could not undo a change after a failed batch: %s\n", e.what());
        }
      }
      const Change& c = changes[index[failed]];
      throw NetlinkError(answers[failed].err, operation(c), describe(c.object), answers[failed].ext_ack);
    }
    if (stop) std::rethrow_exception(stop);
  }
}

// ---- NAT ----

void Kernel::Impl::execute_nat(const std::vector<Change>& changes, size_t begin, size_t end, size_t& done) {
  std::vector<Change> group;
  std::exception_ptr stop;
  for (size_t k = begin; k < end; ++k) {
    if (inject_failure_now()) {
      stop = std::make_exception_ptr(injected(changes[k]));
      break;
    }
    group.push_back(changes[k]);
  }
  if (!group.empty()) {
    NetnsGuard in(path(scope_of(changes[begin].object)));
    nft::apply(nft_context(scope_of(changes[begin].object)), group);  // one transaction: all or nothing
    done += group.size();
  }
  if (stop) std::rethrow_exception(stop);
}

// ---- links ----

void Kernel::Impl::create_veth(const Link& l) {
  const std::string& peer_scope = l.peer_scope.empty() ? l.scope : l.peer_scope;
  std::string object = describe(Object{l});
  {
    NetnsFd peer_ns(path(peer_scope));
    netlink::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    netlink::encode_veth_create(m.builder(), l, peer_ns.get());
    check(socket(l.scope).ack(m.msg()), "create link", object);
  }
  forget_links(l.scope);
  forget_links(peer_scope);
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
      const std::string& scope = end.scope;
      auto index = ifindex(scope, end.name);
      if (!index) throw NetlinkError(ENODEV, "set link alias", object, "veth end " + end.name + " vanished");
      netlink::Message m(RTM_NEWLINK, 0);
      netlink::encode_link_set(m.builder(), *index, std::nullopt, end.up, &l.alias);
      check(socket(scope).ack(m.msg()), "set link alias", object);
    }
  } catch (...) {
    if (auto index = ifindex(l.scope, l.name)) {
      netlink::Message m(RTM_DELLINK, 0);
      netlink::encode_link_delete(m.builder(), *index);
      socket(l.scope).ack(m.msg());
      forget_links(l.scope);
      forget_links(peer_scope);
    }
    throw;
  }
}

void Kernel::Impl::delete_veth(const Link& l) {
  const std::string& peer_scope = l.peer_scope.empty() ? l.scope : l.peer_scope;
  std::string object = describe(Object{l});
  std::string scope = l.scope;
  std::optional<int> index;
  if (has_scope(l.scope)) index = ifindex(l.scope, l.name);
  if (!index && !l.peer_name.empty() && has_scope(peer_scope)) {
    // Only the other end is left. It is deleted only if it carries our mark: a link of someone else that
    // happens to have the peer's name is not ours to remove.
    auto peer = get_link(peer_scope, l.peer_name);
    if (peer && peer->kind == "veth" && peer->alias.starts_with(kAliasPrefix)) {
      index = peer->ifindex;
      scope = peer_scope;
    }
  }
  if (!index) return;  // both ends are gone already: nothing left to delete
  netlink::Message m(RTM_DELLINK, 0);
  netlink::encode_link_delete(m.builder(), *index);
  // Deleting one end of a veth deletes its peer too (veth_dellink), whichever namespace it is in.
  check(socket(scope).ack(m.msg()), "delete link", object);
  forget_links(l.scope);
  forget_links(peer_scope);
}

void Kernel::Impl::execute_link(const Change& c) {
  const Link& l = std::get<Link>(c.object);
  const Link* prev = c.previous ? std::get_if<Link>(&*c.previous) : nullptr;
  if (l.kind == LinkKind::Existing || (prev && prev->kind == LinkKind::Existing))
    throw ConflictError(operation(c) + " " + describe(c.object) +
                        ": existing links are never created, changed or deleted");
  switch (c.action) {
    case Action::Create:
      create_veth(l);
      return;
    case Action::Delete:
      delete_veth(l);
      return;
    case Action::Replace:
      break;
  }
  bool same_pair = prev && prev->scope == l.scope && prev->name == l.name &&
                   prev->peer_scope == l.peer_scope && prev->peer_name == l.peer_name;
  if (!same_pair) {
    if (prev) delete_veth(*prev);
    create_veth(l);
    return;
  }
  // Same pair: change mtu, up and alias in place on both ends. An mtu no longer given goes back to veth's
  // default.
  std::optional<uint32_t> mtu;
  if (prev->mtu != l.mtu) mtu = l.mtu.value_or(1500);
  std::optional<bool> up;
  if (prev->up != l.up) up = l.up;
  const std::string* alias = prev->alias != l.alias ? &l.alias : nullptr;
  const std::string& peer_scope = l.peer_scope.empty() ? l.scope : l.peer_scope;
  std::string object = describe(c.object);
  for (const auto& [scope, name] : {std::pair{l.scope, l.name}, std::pair{peer_scope, l.peer_name}}) {
    auto index = ifindex(scope, name);
    if (!index)
      throw NetlinkError(ENODEV, "change link", object, "veth end " + name + " not found in scope " + scope);
    netlink::Message m(RTM_NEWLINK, 0);
    netlink::encode_link_set(m.builder(), *index, mtu, up, alias);
    check(socket(scope).ack(m.msg()), "change link", object);
  }
}

// ---- rules ----

void Kernel::Impl::execute_rule(const Change& c) {
  const Rule& r = std::get<Rule>(c.object);
  auto send = [&](uint16_t type, uint16_t flags, const Rule& rule, const std::string& op) {
    netlink::Message m(type, flags);
    netlink::encode_rule(m.builder(), rule);
    check(socket(rule.scope).ack(m.msg()), op, describe(Object{rule}));
  };
  switch (c.action) {
    case Action::Create:
      send(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r, "create rule");
      return;
    case Action::Delete:
      send(RTM_DELRULE, 0, r, "delete rule");
      return;
    case Action::Replace: {
      // Rules have no in-place replace (NLM_F_REPLACE is not supported by fib_nl_newrule): delete, then add.
      const Rule& prev = c.previous ? std::get<Rule>(*c.previous) : r;
      send(RTM_DELRULE, 0, prev, "replace rule");
      try {
        send(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r, "replace rule");
      } catch (...) {
        // Put the old rule back, so a failed Replace has not taken effect at all.
        try {
          send(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, prev, "restore rule");
        } catch (const std::exception& e) {
          std::fprintf(stderr, "topocni: could not restore a rule after a failed replace: %s\n", e.what());
        }
        throw;
      }
      return;
    }
  }
}

// ---- sysctls ----

void Kernel::Impl::execute_sysctl(const Change& c) {
  const Sysctl& s = std::get<Sysctl>(c.object);
  NetnsGuard in(path(s.scope));  // /proc/sys/net is the namespace of whoever opens the file
  if (c.action == Action::Delete) {
    if (s.previous) sysctls(s.scope).write(s.name, *s.previous);
    return;
  }
  sysctls(s.scope).write(s.name, s.value);
}

}  // namespace topo
