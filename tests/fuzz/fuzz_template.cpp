// libFuzzer target: template loading and rendering. The input is a template (YAML) followed, after a line
// "---config---", by a network config whose prevResult and keys feed the rendering; without that line the
// config is a fixed veth-to-host one.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "cni/cni.h"
#include "topo/error.h"
#include "topo/template/template.h"

namespace {

class Facts : public topo::HostFacts {
 public:
  std::vector<std::string> addresses(const std::string& ifname) override {
    if (ifname != "eth0" && ifname != "enp5s0f0") throw topo::ConflictError("no such interface");
    return {"10.10.20.1/24", "fd00::1/64"};
  }
};

class Tables : public topo::Allocator {
 public:
  std::vector<uint32_t> tables(const topo::TableRequest& r, size_t count) override {
    if (r.low == 0 || r.high < r.low || count > uint64_t{r.high} - r.low + 1) throw topo::Error("empty range");
    std::vector<uint32_t> out;
    for (size_t i = 0; i < count; ++i) out.push_back(r.low + static_cast<uint32_t>(i));
    return out;
  }
};

const char* kDefaultConfig = R"({"cniVersion":"1.0.0","name":"cni0","type":"t","hostInterface":"enp5s0f0",
  "ipMasq":true,"prevResult":{"interfaces":[{"name":"eth0","sandbox":"/p"}],
  "ips":[{"address":"10.10.20.50/24","gateway":"10.10.20.254","interface":0}],"routes":[{"dst":"0.0.0.0/0"}]}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string config_text = kDefaultConfig;
  if (auto at = input.find("\n---config---\n"); at != std::string::npos) {
    config_text = input.substr(at + 14);
    input.resize(at);
  }
  try {
    topo::TemplateSource source{"fuzz", "<fuzz>/fuzz.yaml", input, false};
    topo::Template t = topo::Template::load(source);
    nlohmann::json config = topo::cni::parse_config(config_text);
    Facts facts;
    Tables tables;
    topo::RenderContext ctx;
    ctx.config = config;
    ctx.cni = {{"containerId", "c0ffee"}, {"ifname", "eth0"},    {"netns", "/p"},
               {"network", "cni0"},       {"command", "ADD"},    {"attachment", "cni0/c0ffee/eth0"}};
    ctx.prev = config.value("prevResult", nlohmann::json());
    ctx.ipam = ctx.prev;  // an IPAM result has prevResult's shape: `ipam: true` templates render too
    ctx.facts = &facts;
    ctx.allocator = &tables;
    (void)t.render(ctx);
  } catch (const std::exception&) {
    // SpecError, cni::Error, ConflictError...: rejected input. Crashes and sanitizer reports are the bugs.
  }
  return 0;
}
