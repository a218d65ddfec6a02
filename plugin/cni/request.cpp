#include "cni/request.h"

#include <fmt/format.h>

#include "topo/error.h"
#include "topo/journal_format.h"
#include "topo/state_dir.h"
#include "topo/template/template.h"

namespace topo::cni {

using nlohmann::json;

Request request_of(const json& config, const std::string& command, const std::string& container_id,
                   const std::string& netns, const std::string& ifname) {
  Request r;
  r.attachment = {config.value("name", ""), container_id, ifname};
  if (auto it = config.find("template"); it != config.end()) {
    if (!it->is_string()) throw Error(kInvalidConfig, "invalid network config: key 'template' must be a string");
    r.template_name = it->get<std::string>();
  } else {
    r.template_name = config.at("type").get<std::string>();
  }
  // The entry is part of the attachment: two topocni entries of one conflist are two attachments of the pod's
  // interface (topo/journal.h), and its template's name becomes part of the journal's file name. One that
  // could not name a template file is refused here, before any path is made of it.
  const std::string& t = r.template_name;
  if (!valid_template_name(t))
    throw Error(kInvalidConfig, fmt::format("invalid network config: key '{}': '{}' is not a template name (no '/', "
                                            "not starting with '.')",
                                            config.contains("template") ? "template" : "type", t));
  r.attachment.plugin = r.template_name;
  r.parameters = config;
  r.parameters.erase("prevResult");
  if (auto it = config.find("prevResult"); it != config.end()) r.prev_result = *it;
  r.netns = netns;
  r.command = command;
  return r;
}

std::set<std::pair<std::string, std::string>> valid_attachments(const json& config) {
  auto it = config.find("cni.dev/valid-attachments");
  if (it == config.end() || !it->is_array())
    throw Error(kInvalidConfig, "invalid network config: key 'cni.dev/valid-attachments' must be a list");
  std::set<std::pair<std::string, std::string>> keep;
  for (const json& v : *it) {
    if (!v.is_object() || !v.contains("containerID") || !v.contains("ifname") || !v["containerID"].is_string() ||
        !v["ifname"].is_string()) {
      throw Error(kInvalidConfig,
                  "invalid network config: each of 'cni.dev/valid-attachments' needs 'containerID' and 'ifname'");
    }
    keep.emplace(v["containerID"].get<std::string>(), v["ifname"].get<std::string>());
  }
  return keep;
}

std::vector<CreatedInterface> result_interfaces(const std::vector<topo::CreatedInterface>& created,
                                                const std::string& netns) {
  std::vector<CreatedInterface> out;
  for (const auto& c : created) out.push_back({c.name, c.mac, c.scope == kContainerScope ? netns : ""});
  return out;
}

ErrorReply reply_for(const std::exception& e) {
  if (const auto* x = dynamic_cast<const Error*>(&e)) return {x->code, x->msg, x->details};
  // A host fact a template asked for is missing: positioned at the template's scalar, but the host is what
  // is wrong, so it is a conflict.
  if (dynamic_cast<const HostFactError*>(&e)) return {kConflict, e.what(), ""};
  // The template's own refusal (assert:): this configuration on this node is not one it serves.
  if (dynamic_cast<const TemplateAssertionError*>(&e)) return {kInvalidConfig, e.what(), ""};
  if (const auto* x = dynamic_cast<const SpecError*>(&e)) {
    // Errors in config values point at config keys; errors in templates at template lines.
    return {x->file == "<network config>" ? kInvalidConfig : kTemplateError, e.what(), ""};
  }
  if (const auto* x = dynamic_cast<const TemplateNotFoundError*>(&e)) return {kTemplateError, e.what(), x->searched};
  if (const auto* x = dynamic_cast<const NamespaceError*>(&e))
    return {kInvalidEnvironment, fmt::format("CNI_NETNS {}", e.what()), x->path};
  if (const auto* x = dynamic_cast<const DriftError*>(&e))
    return {kCheckFailed, e.what(), fmt::format("{}", fmt::join(x->differences, "; "))};
  if (const auto* x = dynamic_cast<const IncompleteError*>(&e))
    return {kKernelRefused, e.what(), fmt::format("{}", fmt::join(x->failures, "; "))};
  // The message names the lock and its file (flock_wait.cpp).
  if (dynamic_cast<const BusyError*>(&e)) return {kTryAgainLater, e.what(), "another process holds it; nothing was changed"};
  // Code 5 (I/O failure: state cannot be kept safely), not 4: the directory is not a CNI_* variable, and the
  // default one (/run/topocni) is refused the same way when someone else made it.
  if (dynamic_cast<const StateDirError*>(&e)) return {kIoFailure, e.what(), ""};
  // Code 5 (I/O failure: the state topocni keeps cannot be read) for a journal of a newer format, on ADD,
  // DEL, CHECK and GC alike: nothing was changed. Not 1 (that is the CNI version of the config), nor 11 (no
  // retry helps until a binary that knows the format runs), nor 4 or 7 (the runtime's input is fine).
  if (dynamic_cast<const JournalFormatError*>(&e))
    return {kIoFailure, e.what(), fmt::format("this topocni reads journal formats {} to {}", kOldestJournalFormat, kJournalFormat)};
  // A damaged journal reaches here only from ADD and CHECK (DEL and GC clean up by the marks and set it
  // aside): 5 too, and a DEL clears the way.
  if (const auto* x = dynamic_cast<const JournalDamagedError*>(&e))
    return {kIoFailure, e.what(), fmt::format("{}; a DEL of the attachment removes what is ours and sets the file aside",
                                              fmt::join(x->problems, "; "))};
  if (dynamic_cast<const ConflictError*>(&e)) return {kConflict, e.what(), ""};
  if (dynamic_cast<const NetlinkError*>(&e) || dynamic_cast<const SystemError*>(&e)) return {kKernelRefused, e.what(), ""};
  return {kInternal, e.what(), ""};
}

}  // namespace topo::cni
