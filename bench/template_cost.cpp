// template_cost: what one ADD pays to turn the flagship built-in template into objects, without the kernel:
// finding it, loading it (rebuilding its compiled tree and checking its structure) and rendering it for a
// dual-stack pod. Prints microseconds per step (median of many rounds) in markdown; bench/run.sh runs it.
//
//   template_cost [--rounds 2000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "topo/error.h"
#include "topo/template/template.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Host facts as a node with one underlay would answer them (no kernel: only the template's own cost counts).
class NodeFacts : public topo::HostFacts {
 public:
  std::vector<std::string> addresses(const std::string&) override { return {"10.20.0.2/16", "fd00:20::2/64"}; }
  std::optional<std::string> source_toward(const std::string&) override { return "10.20.0.2"; }
  std::optional<std::string> default_interface(topo::Family) override { return "eth0"; }
  std::optional<json> link(const std::string& ifname) override {
    return json{{"name", ifname}, {"kind", "veth"}, {"mtu", 1500}, {"mac", "02:00:00:00:00:01"}, {"up", true}};
  }
  std::optional<std::string> sysctl(const std::string&) override { return "0"; }
  bool supports_link_kind(const std::string&) override { return true; }
};

class FixedTables : public topo::Allocator {
 public:
  std::vector<uint32_t> tables(const topo::TableRequest& r, size_t count) override {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < count; ++i) out.push_back(r.low + static_cast<uint32_t>(i));
    return out;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double micros(F&& f) {
  auto t = Clock::now();
  f();
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 2000;
  if (argc == 3 && std::strcmp(argv[1], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[2]));
  json prev = json::parse(R"({"cniVersion":"1.0.0",
    "interfaces":[{"name":"eth0","sandbox":"/run/netns/pod"}],
    "ips":[{"interface":0,"address":"10.20.1.5/16","gateway":"10.20.0.1"},
           {"interface":0,"address":"fd00:20::1:5/64","gateway":"fd00:20::1"}],
    "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]})");
  json config = {{"cniVersion", "1.0.0"}, {"name", "net"}, {"type", "veth-to-host"},
                 {"hostInterface", "eth0"}, {"containerInterface", "veth0"}, {"ipMasq", true}};
  NodeFacts facts;
  FixedTables tables;
  topo::RenderContext ctx;
  ctx.config = config;
  ctx.cni = {{"containerId", "c1"}, {"ifname", "eth0"}, {"netns", "/run/netns/pod"}, {"network", "net"},
             {"command", "ADD"}, {"attachment", "net/c1/eth0"}};
  ctx.prev = prev;
  ctx.facts = &facts;
  ctx.allocator = &tables;

  std::vector<double> find, load, render, objects;
  try {
    topo::TemplateLibrary library({});
    for (int i = 0; i < rounds; ++i) {
      std::optional<topo::TemplateSource> source;
      find.push_back(micros([&] { source = library.find("veth-to-host"); }));
      std::optional<topo::Template> t;
      load.push_back(micros([&] { t.emplace(topo::Template::load(*source, &library)); }));
      topo::Rendered r;
      render.push_back(micros([&] { r = t->render(ctx); }));
      objects.push_back(static_cast<double>(r.state.size()));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "template_cost: %s\n", e.what());
    return 1;
  }
  std::printf("### Template cost of one ADD (veth-to-host, dual-stack, no kernel; median of %d rounds)\n\n", rounds);
  std::printf("| step | µs |\n|---|---:|\n");
  std::printf("| find the built-in template | %.1f |\n", median(find));
  std::printf("| load: read its compiled table and declarations | %.1f |\n", median(load));
  std::printf("| render %.0f objects | %.1f |\n\n", median(objects), median(render));
  return 0;
}
