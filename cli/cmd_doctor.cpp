// `topoctl doctor`: diagnoses the node for the failures underlay users hit most (docs/topoctl.md#doctor).
// Reads only; exit 0 healthy, 1 a check could not run, 2 problems found.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "doctor/doctor.h"
#include "topo/netns.h"

namespace topo::cli {

namespace {

using doctor::Finding;
using doctor::Status;

struct DoctorArgs {
  doctor::Options options;
  std::string netns;
  bool json_output = false, no_color = false;
};

// Runs one check family; a failure to read what it needs becomes an error finding, and the others still run.
void run(const char* family, void (*check)(const doctor::Node&, std::vector<Finding>&), const doctor::Node& node,
         std::vector<Finding>& out) {
  try {
    check(node, out);
  } catch (const std::exception& e) {
    out.push_back({family, Status::Error, "", fmt::format("the {} checks", family),
                   fmt::format("could not run: {}", e.what()), ""});
  }
}

std::string paint(Status s, bool color) {
  std::string text = fmt::format("{:<8}", doctor::status_name(s));
  switch (s) {
    case Status::Ok: return green(text, color);
    case Status::Problem: return yellow(text, color);
    case Status::Error: return red(text, color);
  }
  return text;
}

}  // namespace

Command add_doctor(CLI::App& app) {
  auto args = std::make_shared<DoctorArgs>();
  auto* cmd = app.add_subcommand("doctor", "Diagnose this node for topocni (forwarding, rp_filter, conntrack, "
                                           "kube-proxy, CNI files, leftovers); changes nothing");
  cmd->add_option("--interface", args->options.interfaces,
                  "the underlay interface to check (repeatable); default: the hostInterface of topocni's entries");
  cmd->add_option("--cni-conf-dir", args->options.cni_conf_dir, "CNI network configs")->capture_default_str();
  cmd->add_option("--cni-bin-dir", args->options.cni_bin_dir, "CNI plugin dirs, ':'-separated")->capture_default_str();
  cmd->add_option("--state-dir", args->options.state_dir,
                  "topocni's journals (default: $TOPOCNI_STATE_DIR, else /run/topocni)");
  cmd->add_option("--netns", args->netns, "the network namespace to diagnose (default: the one topoctl runs in)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json_output, "print the findings as a JSON list");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  return {cmd, [args] {
            NetnsGuard in(args->netns);  // every check reads this namespace: netlink, nftables, /proc/sys/net
            auto node = doctor::Node::gather(args->options);
            std::vector<Finding> findings;
            run("sysctls", doctor::check_sysctls, node, findings);
            run("netfilter", doctor::check_netfilter, node, findings);
            run("cni-files", doctor::check_cni_files, node, findings);
            run("leftovers", doctor::check_leftovers, node, findings);
            run("damaged-journals", doctor::check_damaged_journals, node, findings);
            run("shared-registry", doctor::check_shared_registry, node, findings);
            size_t problems = 0, errors = 0;
            for (const auto& f : findings) {
              problems += f.status == Status::Problem;
              errors += f.status == Status::Error;
            }
            if (args->json_output) {
              nlohmann::json out = nlohmann::json::array();
              for (const auto& f : findings) out.push_back(doctor::to_json(f));
              std::cout << out.dump(2) << std::endl;
            } else {
              bool color = use_color(args->no_color);
              for (const auto& f : findings) {
                std::cout << paint(f.status, color) << " " << f.check
                          << (f.subject.empty() ? "" : ": " + f.subject) << "\n";
                std::cout << "    checked: " << f.checked << "\n";
                std::cout << "    found:   " << f.found << "\n";
                if (!f.fix.empty()) std::cout << "    fix:     " << f.fix << "\n";
              }
              std::cout << fmt::format("{} checks: {} ok, {} problem{}, {} error{}.\n", findings.size(),
                                       findings.size() - problems - errors, problems, problems == 1 ? "" : "s", errors,
                                       errors == 1 ? "" : "s");
            }
            // A check that could not run leaves the node undiagnosed: that outranks problems found elsewhere.
            return errors ? 1 : problems ? 2 : 0;
          }};
}

}  // namespace topo::cli
