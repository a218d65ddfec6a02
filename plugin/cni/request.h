// From CNI to the engine and back: the engine's typed Request built from a runtime's input, the interfaces an
// ADD created in the result's terms, and the spec's error code for each of the engine's errors.
#pragma once

#include <exception>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/cni.h"
#include "topo/attachment.h"

namespace topo::cni {

// The engine request for one plugin's network config (as parse_config returned it) and the runtime's
// CNI_CONTAINERID / CNI_NETNS / CNI_IFNAME. The template is the config's `template` key, else its `type`
// (code 7 when `template` is not a string), and names the attachment's plugin too; the parameters are the config without `prevResult`, which the
// template reads as `prev`.
Request request_of(const nlohmann::json& config, const std::string& command, const std::string& container_id,
                   const std::string& netns, const std::string& ifname);

// The config's `cni.dev/valid-attachments` (GC, CNI 1.1): the (container id, ifname) pairs to keep. Code 7
// naming the key when it is not a list of {containerID, ifname}.
std::set<std::pair<std::string, std::string>> valid_attachments(const nlohmann::json& config);

// The engine's created interfaces as a result lists them: the container side with `sandbox` = CNI_NETNS.
std::vector<CreatedInterface> result_interfaces(const std::vector<topo::CreatedInterface>& created,
                                                const std::string& netns);

// What the plugin answers for an exception: the spec's code (topocni's own from 100 up), the message and the
// details. cni::Error keeps its own code.
struct ErrorReply {
  int code;
  std::string msg, details;
};
ErrorReply reply_for(const std::exception& e);

}  // namespace topo::cni
