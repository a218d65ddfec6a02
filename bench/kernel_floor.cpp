#include "kernel_floor.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "lab.h"
#include "kinds/address/address_codec.h"
#include "kinds/link/link_codec.h"
#include "kernel/netlink/socket.h"
#include "kernel/nft/context.h"
#include "kernel/nft/layout.h"
#include "kinds/nat/rule_codec.h"
#include "kernel/nft/transaction.h"

namespace bench {

namespace {

namespace nl = topo::netlink;

void check(const nl::Ack& ack, const char* what) {
  if (!ack.ok()) throw std::runtime_error(std::string(what) + ": errno " + std::to_string(ack.err) + " " + ack.ext_ack);
}

// Between two pod starts the node runs other processes (the runtime, the plugins themselves), so the kernel's
// objects a commit walks are no longer in the CPU caches. A commit right after the previous one finds them
// there and would understate the floor (0.18 against 1.4 ms on a 5,000-Service node): writing 64 MB in
// between leaves the caches as cold as a pod start does. A child process writes them: the benchmark's own
// peak RSS must stay small, because a spawned plugin's ru_maxrss starts from its parent's high-water mark.
void evict_caches() {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    std::vector<char> junk(64 << 20);
    volatile char* line = junk.data();  // volatile: the writes are the point, nothing reads them
    for (size_t i = 0; i < junk.size(); i += 64) line[i] = static_cast<char>(i);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
}

// A netlink socket opened inside `netns` (a socket stays in the namespace it was opened in).
std::unique_ptr<nl::Socket> socket_inside(const std::string& netns) {
  Inside in(netns);
  return std::make_unique<nl::Socket>(nl::Socket::open());
}

// The namespace's file, for IFLA_NET_NS_FD; the caller closes it once the request is answered.
int open_netns(const std::string& netns) {
  int fd = ::open(Namespaces::path(netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + netns);
  return fd;
}

}  // namespace

Floor kernel_floor(const std::string& node_netns, const std::string& pod_netns, int repeats) {
  Floor f;
  VethFloor floor(node_netns);
  for (int i = 0; i < repeats; ++i) {
    f.create.push_back(floor.create(pod_netns, "floor0"));
    f.del.push_back(floor.remove("floor0"));
  }
  return f;
}

VethFloor::VethFloor(const std::string& node_netns) : node_netns_(node_netns), node_sock_(socket_inside(node_netns)) {}

VethFloor::~VethFloor() = default;

double VethFloor::create(const std::string& pod_netns, const std::string& name) {
  int pod_fd = open_netns(pod_netns);
  topo::Link link;
  link.name = name;
  link.peer_name = name + "p";
  link.up = true;
  nl::Message create(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  nl::LinkPlacement where;
  where.peer_netns_fd = pod_fd;
  nl::encode_link_create(create.builder(), link, where);
  double t0 = now_ms();
  nl::Ack ack = node_sock_->ack(create.msg());
  double ms = now_ms() - t0;
  ::close(pod_fd);  // only now: the kernel resolves the fd when the request arrives
  check(ack, "create veth");
  // The peer up, untimed, as plugins leave it (a device that is up costs its deletion an extra grace period).
  Inside pod(pod_netns);
  nl::Socket pod_sock = nl::Socket::open();
  nl::Message up(RTM_NEWLINK, 0);
  nl::LinkSettings set_up;
  set_up.up = true;
  nl::encode_link_set(up.builder(), static_cast<int>(if_nametoindex(link.peer_name.c_str())), set_up);
  check(pod_sock.ack(up.msg()), "set peer up");
  return ms;
}

double VethFloor::remove(const std::string& name) {
  int index = 0;
  {
    Inside in(node_netns_);
    index = static_cast<int>(if_nametoindex(name.c_str()));
  }
  nl::Message del(RTM_DELLINK, 0);
  nl::encode_link_delete(del.builder(), index);
  double t0 = now_ms();
  check(node_sock_->ack(del.msg()), "delete veth");
  return now_ms() - t0;
}

MacvlanFloor::MacvlanFloor(const std::string& node_netns, const std::string& parent)
    : node_netns_(node_netns), parent_(parent), node_sock_(socket_inside(node_netns)) {}
MacvlanFloor::~MacvlanFloor() = default;

double MacvlanFloor::create(const std::string& pod_netns, const std::string& address) {
  int pod_fd = open_netns(pod_netns);
  topo::Link link;
  link.name = "eth0";
  link.kind = topo::LinkKind::Macvlan;
  link.data.macvlan_mode = topo::MacvlanMode::Bridge;
  link.up = true;
  nl::LinkPlacement where;
  {
    Inside in(node_netns_);
    where.parent_ifindex = static_cast<int>(if_nametoindex(parent_.c_str()));
  }
  where.netns_fd = pod_fd;
  nl::Message create(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  nl::encode_link_create(create.builder(), link, where);
  double t0 = now_ms();
  nl::Ack ack = node_sock_->ack(create.msg());
  double ms = now_ms() - t0;
  ::close(pod_fd);
  check(ack, "create macvlan");
  // Its address, untimed: an IPv4 address brings its local and prefix routes, which the deletion removes.
  Inside pod(pod_netns);
  nl::Socket pod_sock = nl::Socket::open();
  topo::Address a;
  a.dev = link.name;
  a.local = *topo::IpPrefix::parse(address);
  nl::Message add(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  nl::encode_address(add.builder(), a, static_cast<int>(if_nametoindex(link.name.c_str())));
  check(pod_sock.ack(add.msg()), "add address");
  return ms;
}

double MacvlanFloor::remove(const std::string& pod_netns) {
  Inside pod(pod_netns);
  nl::Socket pod_sock = nl::Socket::open();
  nl::Message del(RTM_DELLINK, 0);
  nl::encode_link_delete(del.builder(), static_cast<int>(if_nametoindex("eth0")));
  double t0 = now_ms();
  check(pod_sock.ack(del.msg()), "delete macvlan");
  return now_ms() - t0;
}

std::vector<double> nft_commit_floor(const std::string& netns, int repeats) {
  Inside in(netns);
  topo::nft::Context ctx;
  topo::NatEntry rule;
  rule.action = topo::NatAction::Masquerade;
  rule.oif = "floor0";
  rule.owner = "bench/floor";
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    topo::nft::Transaction setup;
    setup.add_table();
    setup.add_chain(topo::nft::kPostrouting);
    setup.commit(ctx);
    evict_caches();
    topo::nft::RulePtr encoded = topo::nft::encode_rule(rule);
    topo::nft::Transaction add;
    add.add_rule(*encoded, topo::nft::kPostrouting, "floor rule");
    double t0 = now_ms();
    add.commit(ctx);
    ms.push_back(now_ms() - t0);
    topo::nft::Transaction teardown;
    teardown.delete_table();
    teardown.commit(ctx);
  }
  return ms;
}

}  // namespace bench
