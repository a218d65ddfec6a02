// IPAM delegation (CNI SPEC "Delegated plugins"): a template that declares `ipam: true` gets its addresses
// from the IPAM plugin named in the network config's `ipam.type`, run by topocni as a runtime would run it.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cni/cni.h"

namespace topo::cni {

// The config's `ipam.type`: code 7 naming the key when `ipam` is not an object with a non-empty string
// `type`, or when the type is not a plain file name (no '/', not "." or "..": it is looked up in CNI_PATH,
// never elsewhere).
std::string ipam_type(const nlohmann::json& config);

// Whether the IPAM plugin of `config` configures the pod through the pod's interface, which must therefore
// exist before it runs: `dhcp`, whose daemon sends DHCP out of CNI_IFNAME in the pod (CNI's macvlan and
// bridge create the interface before they run any IPAM plugin). False for a config without a usable type.
bool ipam_needs_interface(const nlohmann::json& config);

// The IPAM plugin's executable: the first CNI_PATH directory (colon-separated) holding an executable file
// named `type`. Code 7 naming `ipam.type` and the directories searched when there is none.
std::string find_ipam_plugin(const std::string& type, const std::string& cni_path);

// One run of a delegated plugin: `executable` with `environment` (NAME=VALUE each; no shell), `stdin_text`
// on its stdin. Its stdout is returned on exit 0. Otherwise the CNI error it printed is thrown as a
// cni::Error with ITS code, msg and details; an exit without one (or a crash) is code 999 ("generic") saying
// how it ended. Past `timeout` the child (only it: its pid) is killed and reaped, and the error says so.
std::string run_delegated(const std::string& executable, const std::vector<std::string>& environment,
                          const std::string& stdin_text, std::chrono::milliseconds timeout);

// The environment a delegated plugin gets: ours, with CNI_COMMAND set to `command` (SPEC: the delegating
// plugin passes its own environment through).
std::vector<std::string> delegated_environment(const std::string& command);

// Whether the config's IPAM is host-local run in topocni's own process (cni/host_local/host_local.h): the
// type is host-local and the config does not say `"builtinHostLocal": false` (code 7 for a non-boolean).
bool builtin_host_local(const nlohmann::json& config);

// IPAM ADD, CHECK or DEL for the config as the runtime sent it (`stdin_text`: the spec passes the whole
// config, prevResult included where the runtime gave one). ADD returns the IPAM result in CNI 1.x form
// (normalize_prev_result), others null. host-local runs in-process unless the config asks for the binary
// (builtin_host_local); every other type is run from `env.path` (CNI_PATH). `env` is the plugin's checked
// CNI_* (read_environment).
nlohmann::json run_ipam(const std::string& command, const nlohmann::json& config,
                        const std::string& stdin_text, const Environment& env,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace topo::cni
