// engine_scale: the engine without a process around it. A topology of N routes (default 10,000) in a
// throwaway namespace: applied (batched netlink), applied again (must plan nothing and send no mutating
// request), destroyed. Each phase uses a fresh topo::Kernel, as a new topoctl process would, and is timed from
// observe to the last ACK. Prints a markdown table.
//
//   engine_scale [--routes 10000] [--repeat 3]
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

topo::State topology(int routes) {
  topo::State s;
  for (int i = 0; i < routes; ++i) {
    topo::Route r;
    r.scope = "host";
    // 198.18.0.0/15 (RFC 2544, benchmarking): one /32 each.
    unsigned a = 0xC6120000u + static_cast<unsigned>(i);
    r.dst = *topo::IpPrefix::parse(fmt::format("{}.{}.{}.{}/32", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255));
    r.dev = "sc0";
    r.route_scope = topo::RouteScope::Link;
    s.of<Route>().push_back(std::move(r));
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

int run(int routes, int repeat) {
  std::string ns = Namespaces::create("scale");
  must({"ip", "-n", ns, "link", "add", "sc0", "type", "veth", "peer", "name", "sc1"});
  must({"ip", "-n", ns, "link", "set", "sc0", "up"});
  must({"ip", "-n", ns, "link", "set", "sc1", "up"});
  const topo::ScopeMap scopes{{"host", Namespaces::path(ns)}};
  const topo::State desired = topology(routes);

  std::vector<double> apply_ms, reapply_ms, destroy_ms;
  uint64_t reapply_mutations = 0;
  size_t reapply_changes = 0;
  for (int i = 0; i < repeat; ++i) {
    Phase a = timed(scopes, [&](topo::Kernel& k) { return topo::diff(desired, k.observe(desired)); });
    if (a.changes != static_cast<size_t>(routes)) throw std::runtime_error("apply planned " + std::to_string(a.changes));
    Phase r = timed(scopes, [&](topo::Kernel& k) { return topo::diff(desired, k.observe(desired)); });
    Phase d = timed(scopes, [&](topo::Kernel& k) {
      return topo::diff_destroy(desired, k.observe(desired), topo::State{});
    });
    if (d.changes != static_cast<size_t>(routes)) throw std::runtime_error("destroy planned " + std::to_string(d.changes));
    {
      topo::Kernel k(scopes);
      if (!k.observe(desired).of<Route>().empty()) throw std::runtime_error("routes left after destroy");
    }
    apply_ms.push_back(a.ms);
    reapply_ms.push_back(r.ms);
    destroy_ms.push_back(d.ms);
    reapply_mutations += r.mutations;
    reapply_changes += r.changes;
  }
  Namespaces::remove(ns);

  Summary sa = summarize(apply_ms), sr = summarize(reapply_ms), sd = summarize(destroy_ms);
  std::string out = fmt::format("### Engine: a topology of {} routes (batched netlink, {} runs)\n\n", routes, repeat);
  out += table_head();
  out += row("apply (observe + diff + create)", sa);
  out += row("apply again (no-op)", sr,
             fmt::format("{} changes planned, {} mutating netlink requests sent", reapply_changes, reapply_mutations));
  out += row("destroy", sd);
  out += "\n| target | measured | goal | met |\n|---|---:|---:|---|\n";
  auto verdict = [&](const std::string& what, double v, double goal, bool extra = true) {
    out += fmt::format("| {} | {} ms | ≤ {} ms | {} |\n", what, ms(v), goal, v <= goal && extra ? "yes" : "**no**");
  };
  verdict(fmt::format("{}-route apply (max)", routes), sa.max, 1000);
  verdict(fmt::format("{}-route re-apply, no mutating message (max)", routes), sr.max, 100, reapply_mutations == 0);
  verdict(fmt::format("{}-route destroy (max)", routes), sd.max, 1000);
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
  int routes = 10000, repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--routes")
      routes = std::stoi(argv[i + 1]);
    else if (k == "--repeat")
      repeat = std::stoi(argv[i + 1]);
  }
  Namespaces::install_cleanup();
  try {
    return run(routes, repeat);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_scale: %s\n", e.what());
    Namespaces::remove_all();
    return 1;
  }
}
