// libFuzzer target: the network config a runtime writes on stdin, with its prevResult, through the parsing,
// validation and version conversion the plugin runs before anything reaches the kernel.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "cni/cni.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json config = topo::cni::parse_config(text);
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
