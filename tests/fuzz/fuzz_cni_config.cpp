// libFuzzer target: the network config a runtime writes on stdin, with its prevResult, through the parsing,
// validation and version conversion the plugin runs before anything reaches the kernel, and the built-in
// host-local's reading of its `ipam` block.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "cni/cni.h"
#include "cni/host_local/host_local.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json config = topo::cni::parse_config(text);
    // The built-in host-local's reading of the `ipam` block (its ranges, routes and requested addresses).
    if (config.contains("ipam") && config["ipam"].is_object()) {
      try {
        topo::cni::host_local::check_config(config, "IgnoreUnknown=1;IP=10.1.0.9");
      } catch (const topo::cni::Error&) {
      }
    }
    for (const std::string& version : topo::cni::supported_versions()) {
      config["cniVersion"] = version;
      (void)topo::cni::make_result(config, {{"veth0123456789a", "aa:bb:cc:dd:ee:ff", ""}, {"veth0", "", "/p"}});
    }
  } catch (const topo::cni::Error&) {
    // The expected way to reject input: it becomes CNI error JSON.
  } catch (const std::exception&) {
    // main() turns anything else into code 110; the fuzzer is after crashes and sanitizer reports.
  }
  return 0;
}
