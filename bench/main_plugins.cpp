// main_plugins: topocni's bridge and macvlan templates next to Debian's Go binaries of the same name, as a
// node switching from them runs them: the same conflist with `type` unchanged, topocni installed under those
// names (`topocni install --names bridge,macvlan`), host-local as the IPAM plugin on both sides: Debian's
// plugins spawn its binary; topocni runs it in its own process (its default), and a third side measures
// topocni with `"builtinHostLocal": false` (the binary spawned), so the two sources of the gain show apart.
// Prints markdown tables (stdout); progress goes to stderr. bench/run.sh runs it.
//
//   main_plugins --topocni PATH [--pods 30]
//
// Each plugin gets a node of its own (a namespace with an "eth0", one end of a veth pair that stays inside
// it: the macvlan master), so the two bridges never meet. Pod i is added on every node before pod i+1, and
// deleted on every node before pod i+1 is, each pod's namespace deleted right after its DEL, as a runtime
// does; the sides take their turns in a new order each round (measure). macvlan has a fourth side in the
// same rounds, the kernel floor (kernel_floor.h): its pods' links are made and deleted by one request each
// from this process, so its DEL is the kernel's part of every DEL in that rhythm, which no plugin can go
// below.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kernel_floor.h"
#include "lab.h"
#include "process.h"
#include "stats.h"
#include "tmpfs_dir.h"

namespace bench {
namespace {

struct Options {
  std::string topocni;
  int pods = 30;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) throw std::runtime_error("missing value for " + k);
    if (k == "--topocni")
      o.topocni = argv[++i];
    else if (k == "--pods")
      o.pods = std::max(1, std::stoi(argv[++i]));
    else
      throw std::runtime_error("unknown option " + k);
  }
  if (o.topocni.empty()) throw std::runtime_error("usage: main_plugins --topocni PATH [--pods N]");
  o.topocni = std::filesystem::absolute(o.topocni);
  return o;
}

void log(const std::string& s) { std::fprintf(stderr, "[main_plugins] %s\n", s.c_str()); }

// One side of a comparison: a node namespace, the CNI_PATH its plugin is found in, and a conflist entry.
struct Side {
  std::string label, node, cni_path, state_dir;
  nlohmann::json config;
  std::vector<double> add, del;
  std::vector<double> del_alone{};  // DELs timed with the kernel idle (measure's `settle`)
  // The kernel floor's side: no plugin, the pod's link made and deleted by one request each (kernel_floor.h).
  std::shared_ptr<MacvlanFloor> floor{};
  int floor_pods{0};
};

// A plugin's call, timed from its spawn to its exit; on the floor's side, the one request's time.
double run(Side& s, const std::string& command, const std::string& pod_id, const std::string& pod_netns) {
  if (s.floor) {
    if (command == "DEL") return s.floor->remove(pod_netns);
    int n = s.floor_pods++;
    return s.floor->create(pod_netns, fmt::format("10.23.{}.{}/16", n / 250, n % 250 + 1));
  }
  std::vector<std::string> env = {"CNI_COMMAND=" + command,
                                  "CNI_CONTAINERID=" + pod_id,
                                  "CNI_NETNS=" + Namespaces::path(pod_netns),
                                  "CNI_IFNAME=eth0",
                                  "CNI_PATH=" + s.cni_path,
                                  "TOPOCNI_STATE_DIR=" + s.state_dir,
                                  "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  std::string plugin = s.config["type"].get<std::string>();
  std::string exe = s.cni_path.substr(0, s.cni_path.find(':')) + "/" + plugin;
  Inside in(s.node);
  CallResult r = call(exe, {exe}, env, s.config.dump());
  if (r.status != 0) throw std::runtime_error(s.label + " " + command + " failed: " + r.out + r.err);
  return r.ms;
}

// Pods on every side, interleaved; then their DELs, interleaved the same way. With `settle`, each DEL waits
// until the kernel has finished tearing down the pod before it: deleting a namespace returns at once, and its
// cleanup (and the RCU grace periods a link deletion waits for) runs after. Back to back, every DEL waits
// out some of that teardown, and how much depends on what ran just before; settled, each DEL is timed
// alone. Only back-to-back ADDs are kept.
void measure(std::vector<Side>& sides, const std::string& tag, int pods, bool settle) {
  // Each round goes through the sides in a new order: a call pays for the teardown of the one before it (a
  // Go binary's exit, a namespace's cleanup), and a fixed rotation would hand each side mostly the same
  // predecessor. The seed is fixed, so every run deals the same orders.
  std::mt19937 dealer(20261206);
  auto order_of_round = [&] {
    std::vector<size_t> order(sides.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), dealer);
    return order;
  };
  std::vector<std::vector<std::string>> netns(sides.size());
  for (int i = 0; i < pods; ++i)
    for (size_t at : order_of_round()) {
      netns[at].push_back(Namespaces::create(fmt::format("{}{}p{}", tag, at, i)));
      double ms = run(sides[at], "ADD", fmt::format("{}-{}", tag, i), netns[at].back());
      if (!settle) sides[at].add.push_back(ms);
    }
  for (int i = 0; i < pods; ++i)
    for (size_t at : order_of_round()) {
      const std::string& pod = netns[at][static_cast<size_t>(i)];
      if (settle) std::this_thread::sleep_for(std::chrono::milliseconds(150));
      double ms = run(sides[at], "DEL", fmt::format("{}-{}", tag, i), pod);
      (settle ? sides[at].del_alone : sides[at].del).push_back(ms);
      Namespaces::remove(pod);
    }
}

std::string ratio(double x) { return fmt::format("{:.2f}×", x); }

// Per plugin: Debian's binary, topocni (host-local in-process), topocni with the host-local binary; for
// macvlan, the kernel floor as a fourth.
constexpr size_t kGo = 0, kTopocni = 1;

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (geteuid() != 0) {
    std::fprintf(stderr, "main_plugins: needs root (creates network namespaces)\n");
    return 2;
  }
  Namespaces::install_cleanup();
  int rc = 0;
  try {
    Options o = parse(argc, argv);
    TmpfsDir work;  // host-local's data and topocni's state, on a tmpfs as on a node
    const std::string& dir = work.path();
    // topocni under the reference plugins' names, as a node switching from them installs it.
    std::string bin = dir + "/bin";
    std::filesystem::create_directories(bin);
    std::filesystem::create_directories(dir + "/templates");
    must({o.topocni, "install", "--cni-bin-dir", bin, "--names", "bridge,macvlan", "--templates-dir",
          dir + "/templates"});
    const std::string debian = "/usr/lib/cni";
    auto host_local = [&](const std::string& side, const std::string& subnet) {
      return nlohmann::json{{"type", "host-local"}, {"subnet", subnet}, {"dataDir", dir + "/ipam-" + side}};
    };
    std::string out;
    std::vector<std::vector<Side>> groups;  // one per plugin
    for (const std::string plugin : {"bridge", "macvlan"}) {
      log(plugin + ": " + std::to_string(o.pods) + " pods on each side, interleaved");
      nlohmann::json conf = {{"cniVersion", "1.0.0"}, {"name", "bench" + plugin}, {"type", plugin}};
      if (plugin == "bridge") {
        conf["bridge"] = "cni0";
        conf["isGateway"] = true;
        conf["ipMasq"] = true;
      } else {
        conf["master"] = "eth0";
        conf["mode"] = "bridge";
      }
      std::vector<Side> sides(3);
      sides[0] = {"Debian's " + plugin, create_node_namespace(plugin + "go"), debian, dir + "/state-go-" + plugin, conf, {}, {}};
      sides[1] = {"topocni's " + plugin + " template", create_node_namespace(plugin + "tp"), bin + ":" + debian,
                  dir + "/state-tp-" + plugin, conf, {}, {}};
      sides[2] = {"topocni's " + plugin + " template, host-local binary", create_node_namespace(plugin + "tb"),
                  bin + ":" + debian, dir + "/state-tb-" + plugin, conf, {}, {}};
      sides[2].config["builtinHostLocal"] = false;
      std::string subnet = plugin == "bridge" ? "10.50.0.0/16" : "10.20.0.0/16";
      for (size_t k = 0; k < sides.size(); ++k) {
        sides[k].config["ipam"] = host_local(fmt::format("{}{}", plugin, k), subnet);
        if (plugin == "macvlan") sides[k].config["ipam"]["rangeStart"] = "10.20.1.1";
      }
      if (plugin == "macvlan") {
        Side floor{"kernel floor: the pod's macvlan made and deleted by one request each",
                   create_node_namespace(plugin + "fl"), "", "", {}, {}, {}};
        floor.floor = std::make_shared<MacvlanFloor>(floor.node, "eth0");
        sides.push_back(std::move(floor));
      }
      measure(sides, plugin, o.pods, false);
      measure(sides, plugin + "s", o.pods, true);
      for (Side& s : sides) Namespaces::remove(s.node);
      groups.push_back(std::move(sides));
    }

    // What both sides pay for IPAM: host-local on its own, spawned as each plugin spawns it.
    log("host-local alone");
    std::vector<double> hl_add, hl_del;
    {
      std::string node = create_node_namespace("hl");
      // Run directly, as a plugin delegates to it: host-local reads the network config's `ipam` key.
      nlohmann::json net = {{"cniVersion", "1.0.0"}, {"name", "benchhl"}, {"type", "host-local"},
                            {"ipam", host_local("hl", "10.60.0.0/16")}};
      Side hl{"host-local", node, debian, dir + "/state-hl", net, {}, {}};
      for (int i = 0; i < o.pods; ++i) hl_add.push_back(run(hl, "ADD", fmt::format("hl-{}", i), node));
      for (int i = 0; i < o.pods; ++i) hl_del.push_back(run(hl, "DEL", fmt::format("hl-{}", i), node));
      Namespaces::remove(node);
    }

    out += fmt::format("### Main plugins side by side ({} pods per side, host-local IPAM on all)\n\n", o.pods);
    out += table_head();
    out += row("host-local ADD alone (spawned once per ADD, unless run in-process)", summarize(hl_add));
    out += row("host-local DEL alone", summarize(hl_del));
    std::vector<std::string> verdicts;
    for (const std::vector<Side>& sides : groups) {
      // Each measurement for every side: Debian's first, then each other side against it (and, on DEL, a
      // topocni side against the kernel floor when there is one).
      struct Measurement {
        const char* what;
        std::vector<double> Side::*samples;
        bool go_over_this;  // ADD: how many times faster; DEL: the share of Debian's time
      };
      const Side* floor = sides.back().floor ? &sides.back() : nullptr;
      std::vector<std::vector<Summary>> summaries;  // [measurement][side]
      for (const Measurement& m : {Measurement{" ADD", &Side::add, true}, Measurement{" DEL", &Side::del, false},
                                   Measurement{" DEL, each alone", &Side::del_alone, false}}) {
        summaries.emplace_back();
        Summary floor_x = floor ? summarize(floor->*m.samples) : Summary{};
        for (const Side& side : sides) {
          Summary x = summarize(side.*m.samples);
          summaries.back().push_back(x);
          const Summary& go = summaries.back()[kGo];
          std::string note;
          if (&side == &sides[kGo]) {
          } else if (side.floor) {
            note = fmt::format("floor / Go: {}", ratio(x.p50 / go.p50));
          } else if (m.go_over_this) {
            note = fmt::format("Go / this: {}", ratio(go.p50 / x.p50));
          } else {
            note = fmt::format("this / Go: {}", ratio(x.p50 / go.p50));
            if (floor) note += fmt::format("; this / floor: {}", ratio(x.p50 / floor_x.p50));
          }
          out += row(side.label + m.what, x, note);
        }
      }
      const auto& sm = summaries;
      const Summary &ga = sm[0][kGo], &ta = sm[0][kTopocni], &gd = sm[1][kGo], &td = sm[1][kTopocni],
                    &gs = sm[2][kGo], &ts = sm[2][kTopocni];
      const std::string& label = sides[kTopocni].label;
      verdicts.push_back(fmt::format("| {} ADD ≥3× faster than the Go binary (p50) | {} | ≥ 3× | {} |", label,
                                     ratio(ga.p50 / ta.p50), ga.p50 / ta.p50 >= 3 ? "yes" : "**no**"));
      verdicts.push_back(fmt::format("| {} DEL no slower than the Go binary (p50, back to back) | {} | ≤ 1× | {} |",
                                     label, ratio(td.p50 / gd.p50), td.p50 <= gd.p50 ? "yes" : "**no**"));
      verdicts.push_back(fmt::format("| {} DEL no slower than the Go binary (p50, each alone) | {} | ≤ 1× | {} |",
                                     label, ratio(ts.p50 / gs.p50), ts.p50 <= gs.p50 ? "yes" : "**no**"));
    }
    out += "\n| target | measured | goal | met |\n|---|---:|---:|---|\n";
    for (const std::string& v : verdicts) out += v + "\n";
    std::cout << out << "\n" << std::flush;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "main_plugins: %s\n", e.what());
    rc = 1;
  }
  Namespaces::remove_all();
  return rc;
}
