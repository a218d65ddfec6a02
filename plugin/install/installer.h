// `topocni install` and `topocni uninstall`: put the plugin, the names it serves, user templates and its
// conflist entry on a node, and take exactly those away again. Everything is checked before anything is
// written, so refused input changes nothing.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace topo::install {

struct InstallOptions {
  std::string cni_bin_dir = "/opt/cni/bin";
  std::vector<std::string> names = {"veth-to-host"};  // served besides `topocni`
  std::string templates_dir = "/etc/cni/topocni.d";
  std::vector<std::string> templates;  // files NAME.yaml to install as templates_dir/NAME.yaml
  std::string conflist, after, entry;  // insert `entry` into `conflist` after the plugin of type `after`
  std::string write_conflist, conflist_json;  // write a whole conflist
  std::string self_exe = "/proc/self/exe";    // the binary to install (tests may point elsewhere)
};

struct UninstallOptions {
  std::string cni_bin_dir = "/opt/cni/bin";
  std::vector<std::string> names = {"veth-to-host"};
  std::string templates_dir = "/etc/cni/topocni.d";
  std::vector<std::string> templates;  // NAME or NAME.yaml
  std::string conflist, type;          // remove the plugins of `type` from `conflist`
};

// Each prints one line per change to `out`; both throw InstallError.
void install(const InstallOptions& options, std::ostream& out);
void uninstall(const UninstallOptions& options, std::ostream& out);

}  // namespace topo::install
