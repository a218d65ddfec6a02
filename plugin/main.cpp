// topocni: the CNI plugin. Reads the network config on stdin and CNI_* from the environment, runs one
// command through topo::Attachments, and answers on stdout as the CNI spec says (result or error JSON).
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "topo/attachment.h"
#include "topo/cni.h"
#include "topo/error.h"
#include "topo/state_dir.h"

namespace {

using nlohmann::json;
namespace cni = topo::cni;

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

int fail(const std::string& version, int code, const std::string& msg, const std::string& details) {
  std::cout << cni::error_json(version, code, msg, details).dump() << std::endl;
  std::cerr << fmt::format("topocni: error {}: {}{}\n", code, msg, details.empty() ? "" : " (" + details + ")");
  return 1;
}

// VERSION needs no config beyond an optional cniVersion (SPEC: the runtime sends {"cniVersion": ...}).
int version(const std::string& stdin_text) {
  std::string requested = "1.1.0";
  try {
    auto j = json::parse(stdin_text.empty() ? "{}" : stdin_text);
    if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string()) requested = j["cniVersion"];
  } catch (const json::parse_error&) {
  }
  std::cout << json{{"cniVersion", requested}, {"supportedVersions", cni::supported_versions()}}.dump() << std::endl;
  return 0;
}

int run(const cni::Environment& env, const std::string& stdin_text, std::string& version_out) {
  json config = cni::parse_config(stdin_text);
  version_out = config["cniVersion"];
  topo::Request req{env.command, config, env.container_id, env.netns, env.ifname};
  topo::Attachments attachments(topo::Options::from_environment());
  if (env.command == "ADD") {
    auto created = attachments.add(req);
    std::cout << cni::make_result(config, created).dump() << std::endl;
  } else if (env.command == "DEL") {
    attachments.del(req);
  } else if (env.command == "CHECK") {
    if (version_out < "0.4.0") {
      throw cni::Error(cni::kUnsupportedField, fmt::format("CHECK is not part of cniVersion {}", version_out),
                       "CHECK needs cniVersion 0.4.0 or later");
    }
    attachments.check(req);
  } else if (env.command == "STATUS" || env.command == "GC") {
    if (version_out < "1.1.0") {
      throw cni::Error(cni::kUnsupportedField, fmt::format("{} is not part of cniVersion {}", env.command, version_out),
                       fmt::format("{} needs cniVersion 1.1.0", env.command));
    }
    if (env.command == "STATUS") {
      attachments.status();
    } else {
      for (const auto& id : attachments.gc(config)) std::cerr << "topocni: GC removed " << id << "\n";
    }
  }
  return 0;
}

}  // namespace

int main() {
  std::string version_text;
  std::string stdin_text;
  try {
    auto env = cni::read_environment();
    cni::validate_container_netns(env);
    stdin_text = read_stdin();
    if (env.command == "VERSION") return version(stdin_text);
    return run(env, stdin_text, version_text);
  } catch (const cni::Error& e) {
    return fail(version_text, e.code, e.msg, e.details);
  } catch (const topo::HostFactError& e) {
    // Positioned at the template's scalar, but the host is what is missing: a conflict, as before.
    return fail(version_text, cni::kConflict, e.what(), "");
  } catch (const topo::SpecError& e) {
    // Errors in config values point at config keys; errors in templates at template lines.
    int code = e.file == "<network config>" ? cni::kInvalidConfig : cni::kTemplateError;
    return fail(version_text, code, e.what(), "");
  } catch (const topo::BusyError& e) {
    // The message names the lock and its file (flock_wait.cpp): the journal's or a namespace's nftables lock.
    return fail(version_text, cni::kTryAgainLater, e.what(), "another process holds it; nothing was changed");
  } catch (const topo::StateDirError& e) {
    // Code 5 (I/O failure: state cannot be kept safely), not 4: the directory is not a CNI_* variable, and
    // the default one (/run/topocni) is refused the same way when someone else made it.
    return fail(version_text, cni::kIoFailure, e.what(), "");
  } catch (const topo::ConflictError& e) {
    return fail(version_text, cni::kConflict, e.what(), "");
  } catch (const topo::NetlinkError& e) {
    return fail(version_text, cni::kKernelRefused, e.what(), "");
  } catch (const topo::SystemError& e) {
    return fail(version_text, cni::kKernelRefused, e.what(), "");
  } catch (const std::exception& e) {
    return fail(version_text, cni::kInternal, e.what(), "");
  }
}
