// topocni: the CNI plugin. Reads the network config on stdin and CNI_* from the environment, runs one
// command through topo::Attachments (cni/request.h turns CNI input into the engine's typed request and the
// engine's errors into the spec's codes), and answers on stdout as the CNI spec says (result or error JSON).
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "cni/cni.h"
#include "cni/ipam.h"
#include "cni/request.h"
#include "command_log.h"
#include "install/command.h"
#include "topo/attachment.h"
#include "topo/fault_injection.h"

namespace {

using nlohmann::json;
namespace cni = topo::cni;

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// A line for the operator: on stderr, and in the command log when there is one.
void report(const std::string& line) {
  std::cerr << "topocni: " << line << "\n";
  topo::plugin::CommandLog::note(line);
}

int fail(const std::string& version, int code, const std::string& msg, const std::string& details) {
  topo::plugin::CommandLog::failed(code, msg);
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

// IPAM DEL after a failed ADD, so that nothing stays allocated; its own failure is reported, never thrown:
// the ADD's error is the one the runtime must hear.
void release_after_failed_add(const json& config, const std::string& stdin_text, const cni::Environment& env) {
  try {
    cni::run_ipam("DEL", config, stdin_text, env);
  } catch (const std::exception& e) {
    report(fmt::format("IPAM DEL after the failed ADD failed too, the address may stay allocated: {}", e.what()));
  }
}

// DEL of what an ADD applied before it failed; its own failure is reported, never thrown (as above).
void remove_after_failed_add(topo::Attachments& attachments, const topo::Request& req) {
  try {
    attachments.del(req);
  } catch (const std::exception& e) {
    report(fmt::format("removing what the failed ADD made failed too; the next DEL removes it: {}", e.what()));
  }
}

// Whether DEL runs the IPAM plugin: when the template declares ipam, or cannot say (a template since removed
// or broken: releasing is idempotent, and keeping an address allocated forever is the worse mistake).
bool del_runs_ipam(topo::Attachments& attachments, const topo::Request& req, const json& config) {
  // No exception on the common path: a process's first throw makes the unwinder index the whole (static)
  // binary's frames, milliseconds that every flagship DEL would pay.
  if (!config.contains("ipam")) return false;
  // A config whose `ipam` names no usable plugin allocated nothing on ADD (it was refused): nothing to
  // release, and a DEL that failed on it would be retried forever.
  try {
    cni::ipam_type(config);
  } catch (const cni::Error&) {
    return false;
  }
  try {
    return attachments.declarations(req).ipam;
  } catch (const std::exception& e) {
    std::cerr << "topocni: the template cannot be loaded (" << e.what() << "); releasing through IPAM anyway\n";
    return true;
  }
}

int run(const cni::Environment& env, const std::string& stdin_text, std::string& version_out) {
  json config = cni::parse_config(stdin_text);
  version_out = config["cniVersion"];
  topo::Request req = cni::request_of(config, env.command, env.container_id, env.netns, env.ifname);
  topo::Options options = topo::Options::from_environment();
  options.change_hook = topo::fault_injection_from_environment();  // tests only; empty otherwise
  options.report = report;
  topo::Attachments attachments(options);
  // What the template declares is asked only where it can matter: a config with an `ipam` key, or an ADD
  // without prevResult (a main plugin's). The flagship (chained, no `ipam`) loads its template once, as before.
  topo::Declarations declared;
  bool ipam_key = config.contains("ipam");
  if (env.command == "ADD") {
    if (ipam_key || req.prev_result.is_null()) declared = attachments.declarations(req);
    if (req.prev_result.is_null() && !declared.ipam && !declared.result) {
      throw cni::Error(cni::kInvalidConfig, "invalid network config: key 'prevResult' is missing",
                       "topocni is a chained plugin: list it after the plugin that creates the pod's interface");
    }
    // IPAM ADD before the render; from then on every failure releases the allocation. An IPAM plugin that
    // works through the pod's interface (dhcp) runs between two applies of the template instead: the first,
    // with an empty IPAM result, makes the links (and all else that needs no address); the second, with the
    // result, adds the addresses and routes. Both are one attachment's ADD: a kill in between leaves what its
    // journal names, and the DEL that follows removes it and releases the lease.
    bool links_first = declared.ipam && cni::ipam_needs_interface(config);
    if (declared.ipam && !links_first) req.ipam = cni::run_ipam("ADD", config, stdin_text, env);
    try {
      if (links_first) {
        topo::Request links = req;
        links.ipam = json::object();
        attachments.add(links);
        req.ipam = cni::run_ipam("ADD", config, stdin_text, env);
      }
      json result;
      auto created = attachments.add(req, &result);
      std::cout << cni::make_result(config, cni::result_interfaces(created, env.netns), result, env.netns).dump()
                << std::endl;
    } catch (...) {
      // A failed ADD leaves nothing: the first apply's links too (add() rolls back only its own changes).
      if (links_first) remove_after_failed_add(attachments, req);
      if (declared.ipam) release_after_failed_add(config, stdin_text, env);
      throw;
    }
  } else if (env.command == "DEL") {
    // The reverse of ADD's order: after the kernel objects (an address is released once nothing holds it),
    // except for an IPAM plugin that works through the pod's interface (dhcp), which releases its lease
    // through it, so before the interface goes. A repeated DEL repeats it.
    bool releases = del_runs_ipam(attachments, req, config);
    bool release_first = releases && cni::ipam_needs_interface(config);
    if (release_first) cni::run_ipam("DEL", config, stdin_text, env);
    attachments.del(req);
    if (releases && !release_first) cni::run_ipam("DEL", config, stdin_text, env);
  } else if (env.command == "CHECK") {
    if (version_out < "0.4.0") {
      throw cni::Error(cni::kUnsupportedField, fmt::format("CHECK is not part of cniVersion {}", version_out),
                       "CHECK needs cniVersion 0.4.0 or later");
    }
    if (ipam_key) declared = attachments.declarations(req);
    if (declared.ipam) {
      cni::run_ipam("CHECK", config, stdin_text, env);
      // The template renders against the addresses ADD got: the runtime passes ADD's result as prevResult.
      req.ipam = req.prev_result.is_null() ? json::object() : req.prev_result;
    }
    attachments.check(req);
  } else if (env.command == "STATUS" || env.command == "GC") {
    if (version_out < "1.1.0") {
      throw cni::Error(cni::kUnsupportedField, fmt::format("{} is not part of cniVersion {}", env.command, version_out),
                       fmt::format("{} needs cniVersion 1.1.0", env.command));
    }
    if (env.command == "STATUS") {
      try {
        attachments.status();
      } catch (const std::exception& e) {
        throw cni::Error(50, "topocni is not available: its state directory cannot be written", e.what());
      }
    } else {
      for (const auto& id : attachments.gc(req, cni::valid_attachments(config))) std::cerr << "topocni: GC removed " << id << "\n";
    }
    // SPEC 1.1: a plugin that delegates IPAM passes STATUS and GC on (GC with the same valid attachments, so
    // the IPAM plugin releases what the removed ones held); its error comes back with its own code.
    if (ipam_key && attachments.declarations(req).ipam) cni::run_ipam(env.command, config, stdin_text, env);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) return topo::install::run_command(argc, argv);  // topocni install|uninstall; runtimes pass none
  std::string version_text;
  std::string stdin_text;
  topo::plugin::CommandLog command_log(stdin_text);  // the optional log file's line, written on return
  try {
    auto env = cni::read_environment();
    stdin_text = read_stdin();  // first: the command log reads its settings from the config
    cni::validate_container_netns(env);
    if (env.command == "VERSION") return version(stdin_text);
    return run(env, stdin_text, version_text);
  } catch (const std::exception& e) {
    cni::ErrorReply reply = cni::reply_for(e);
    return fail(version_text, reply.code, reply.msg, reply.details);
  }
}
