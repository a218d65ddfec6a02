// A CNI network config file as topoctl reads it: one plugin's config or a conflist.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/error.h"

namespace topo::cli {

// The templates named after CNI's reference plugins (specs/bridge.yaml..., built in or in a template directory,
// as the e2e tests read them from the source tree): a conflist entry of such a type is most often the
// reference binary itself (Debian's macvlan before topocni's veth-to-host), which topoctl must leave alone.
// It is topocni's when it says so with `template` (checked by the caller), or when the plugin of that name a
// runtime would run (the first in `search_path`, colon-separated dirs) is topocni installed under that name.
// Any other type: true.
bool reference_plugin_served_by_topocni(const std::string& type, const std::string& search_path);

struct PluginConfig {
  nlohmann::json config;  // as the plugin would get it on stdin (name, cniVersion, prevResult filled in)
  std::string template_name;
};

class ConfigFile {
 public:
  // Throws SpecError with the file, line and column of a JSON syntax error.
  explicit ConfigFile(std::string path);

  // The entries topocni has templates for. prevResult: the config's, else `prev_result_file`, else the
  // runtime's cached result (/var/lib/cni/results), else the one the journal kept from the last ADD.
  std::vector<PluginConfig> plugin_configs(const std::string& container_id, const std::string& ifname,
                                           const std::string& prev_result_file) const;

  // A SpecError about a config value (file "<network config>", path "config.<key>") re-pointed at this
  // file's line and column of that key.
  SpecError locate(const SpecError& e) const;

 private:
  std::string path_, text_;
  nlohmann::json json_;
};

}  // namespace topo::cli
