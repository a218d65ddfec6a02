// engine_scale: the engine without a process around it. Three topologies in a throwaway namespace: N routes
// (default 10,000) and N neighbours (batched netlink), and M veth pairs (default 1,000; one request each).
// Each is applied, applied again (must plan nothing and send no mutating request), destroyed. Each phase uses
// a fresh topo::Kernel, as a new topoctl process would, and is timed from observe to the last ACK. Prints
// markdown tables.
//
//   engine_scale [--routes 10000] [--neighbours 10000] [--links 1000] [--repeat 3]
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lab.h"
#include "kernel/netlink/socket.h"
#include "process.h"
#include "stats.h"
#include "topo/apply.h"
#include "topo/diff.h"
#include "topo/kernel.h"

namespace bench {
namespace {

// 198.18.0.0/15 (RFC 2544, benchmarking): the i-th address.
std::string bench_address(int i) {
  unsigned a = 0xC6120000u + static_cast<unsigned>(i);
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

topo::State routes_topology(int routes) {
  topo::State s;
  for (int i = 0; i < routes; ++i) {
    topo::Route r;
    r.scope = "host";
    r.dst = *topo::IpPrefix::parse(bench_address(i) + "/32");
    r.dev = "sc0";
    r.route_scope = topo::RouteScope::Link;
    s.of<topo::Route>().push_back(std::move(r));
  }
  return s;
}

topo::State neighbours_topology(int neighbours) {
  topo::State s;
  for (int i = 0; i < neighbours; ++i) {
    topo::Neighbour n;
    n.scope = "host";
    n.dev = "sc0";
    n.address = *topo::IpAddress::parse(bench_address(i));
    n.lladdr = *topo::MacAddress::parse(fmt::format("02:00:00:{:02x}:{:02x}:{:02x}", (i >> 16) & 255, (i >> 8) & 255, i & 255));
    s.of<topo::Neighbour>().push_back(std::move(n));
  }
  return s;
}

topo::State links_topology(int links) {
  topo::State s;
  for (int i = 0; i < links; ++i) {
    topo::Link l;
    l.scope = "host";
    l.name = fmt::format("bl{}", i);
    l.peer_scope = "host";
    l.peer_name = fmt::format("br{}", i);
    l.alias = fmt::format("topocni:bench/{}", i);
    s.of<topo::Link>().push_back(std::move(l));
  }
  return s;
}

struct Phase {
  double ms{0};
  size_t changes{0};
  uint64_t mutations{0};
};

template <class Plan>
Phase timed(const topo::ScopeMap& scopes, Plan&& make_plan) {
  uint64_t before = topo::netlink::Socket::mutations_sent();
  double t0 = now_ms();
  topo::Kernel kernel(scopes);
  topo::Plan plan = make_plan(kernel);
  topo::apply(plan, kernel);
  Phase p{now_ms() - t0, plan.changes.size(), topo::netlink::Socket::mutations_sent() - before};
  return p;
}

// Applies, re-applies and destroys `desired` `repeat` times; returns the markdown section and whether every
// target was met.
std::string measure(const std::string& what, const topo::ScopeMap& scopes, const topo::State& desired, int repeat,
                    double apply_goal, double reapply_goal, double destroy_goal) {
  const size_t count = desired.size();
  std::vector<double> apply_ms, reapply_ms, destroy_ms;
  uint64_t reapply_mutations = 0;
  size_t reapply_changes = 0;
  for (int i = 0; i < repeat; ++i) {
    Phase a = timed(scopes, [&](topo::Kernel& k) { return topo::diff(desired, k.observe(desired)); });
    if (a.changes != count) throw std::runtime_error(what + ": apply planned " + std::to_string(a.changes));
    Phase r = timed(scopes, [&](topo::Kernel& k) { return topo::diff(desired, k.observe(desired)); });
    Phase d = timed(scopes, [&](topo::Kernel& k) {
      return topo::diff_destroy(desired, k.observe(desired), topo::State{});
    });
    if (d.changes != count) throw std::runtime_error(what + ": destroy planned " + std::to_string(d.changes));
    {
      topo::Kernel k(scopes);
      if (!k.observe(desired).empty()) throw std::runtime_error(what + ": objects left after destroy");
    }
    apply_ms.push_back(a.ms);
    reapply_ms.push_back(r.ms);
    destroy_ms.push_back(d.ms);
    reapply_mutations += r.mutations;
    reapply_changes += r.changes;
  }
  Summary sa = summarize(apply_ms), sr = summarize(reapply_ms), sd = summarize(destroy_ms);
  std::string out = fmt::format("### Engine: a topology of {} ({} runs)\n\n", what, repeat);
  out += table_head();
  out += row("apply (observe + diff + create)", sa);
  out += row("apply again (no-op)", sr,
             fmt::format("{} changes planned, {} mutating netlink requests sent", reapply_changes, reapply_mutations));
  out += row("destroy", sd);
  if (apply_goal <= 0) return out;  // no target (see run())
  out += "\n| target | measured | goal | met |\n|---|---:|---:|---|\n";
  auto verdict = [&](const std::string& phase, double v, double goal, bool extra = true) {
    out += fmt::format("| {} {} | {} ms | ≤ {} ms | {} |\n", what, phase, ms(v), goal, v <= goal && extra ? "yes" : "**no**");
  };
  verdict("apply (max)", sa.max, apply_goal);
  verdict("re-apply, no mutating message (max)", sr.max, reapply_goal, reapply_mutations == 0);
  verdict("destroy (max)", sd.max, destroy_goal);
  return out;
}

int run(int routes, int neighbours, int links, int repeat) {
  std::string ns = Namespaces::create("scale");
  must({"ip", "-n", ns, "link", "add", "sc0", "type", "veth", "peer", "name", "sc1"});
  must({"ip", "-n", ns, "link", "set", "sc0", "up"});
  must({"ip", "-n", ns, "link", "set", "sc1", "up"});
  const topo::ScopeMap scopes{{"host", Namespaces::path(ns)}};
  std::string out;
  out += measure(fmt::format("{} routes", routes), scopes, routes_topology(routes), repeat, 1000, 100, 1000) + "\n";
  out += measure(fmt::format("{} neighbours", neighbours), scopes, neighbours_topology(neighbours), repeat, 1000, 100,
                 1000) + "\n";
  // Links: measured, no target yet. Each costs one request, and creating and deleting a device is the kernel's
  // slowest path (a deletion waits for an RCU grace period per device: ~25 ms each on these machines, see
  // docs/performance.md on the veth floor), so the figures are mostly the kernel's.
  out += measure(fmt::format("{} veth pairs", links), scopes, links_topology(links), repeat, 0, 0, 0);
  Namespaces::remove(ns);
  std::cout << out << "\n" << std::flush;
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (geteuid() != 0) {
    std::fprintf(stderr, "engine_scale: needs root (creates a network namespace)\n");
    return 2;
  }
  int routes = 10000, neighbours = 10000, links = 1000, repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--routes")
      routes = std::stoi(argv[i + 1]);
    else if (k == "--neighbours")
      neighbours = std::stoi(argv[i + 1]);
    else if (k == "--links")
      links = std::stoi(argv[i + 1]);
    else if (k == "--repeat")
      repeat = std::stoi(argv[i + 1]);
  }
  Namespaces::install_cleanup();
  try {
    return run(routes, neighbours, links, repeat);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_scale: %s\n", e.what());
    Namespaces::remove_all();
    return 1;
  }
}
