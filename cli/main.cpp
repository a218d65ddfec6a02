// topoctl: the operator's and template author's CLI. `plan` is a dry run of what the plugin would do.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "config_file.h"
#include "topo/attachment.h"
#include "topo/cni.h"
#include "topo/error.h"
#include "topo/plan_format.h"

namespace {

using nlohmann::json;

struct PlanArgs {
  std::string config_file, netns, container_id, ifname = "eth0", prev_result_file, command = "ADD";
  bool json_output = false, detailed_exitcode = false, no_color = false;
};

int run_plan(const PlanArgs& args) {
  topo::cli::ConfigFile config(args.config_file);
  auto entries = config.plugin_configs(args.container_id, args.ifname, args.prev_result_file);
  if (entries.empty()) {
    throw topo::Error(fmt::format("{}: no plugin in this config has a topocni template", args.config_file));
  }
  topo::Attachments attachments(topo::Options::from_environment());
  bool changes = false;
  json all = json::array();
  for (const auto& entry : entries) {
    topo::Request req{args.command, entry.config, args.container_id, args.netns, args.ifname};
    topo::Planned planned;
    try {
      planned = attachments.plan(req);
    } catch (const topo::SpecError& e) {
      throw config.locate(e);  // values from the config file: point at its line and key
    }
    changes = changes || !planned.plan.empty();
    topo::PlanHeader header{req.attachment().id(), entry.template_name, args.command};
    if (args.json_output) {
      all.push_back(topo::plan_to_json(planned.plan, header));
    } else {
      std::cout << topo::format_plan(planned.plan, header, !args.no_color && isatty(STDOUT_FILENO));
    }
  }
  if (args.json_output) std::cout << (all.size() == 1 ? all[0] : all).dump(2) << std::endl;
  return args.detailed_exitcode && changes ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"topoctl: plan and inspect topocni topologies"};
  app.require_subcommand(1);

  PlanArgs plan;
  auto* plan_cmd = app.add_subcommand("plan", "Show what the plugin would change (a dry run: changes nothing)");
  plan_cmd->add_option("--config", plan.config_file, "CNI network config: one plugin's config or a conflist")
      ->required()
      ->check(CLI::ExistingFile);
  plan_cmd->add_option("--netns", plan.netns, "the pod's network namespace path (CNI_NETNS)")->required();
  plan_cmd->add_option("--container-id", plan.container_id, "CNI_CONTAINERID")->required();
  plan_cmd->add_option("--ifname", plan.ifname, "CNI_IFNAME")->capture_default_str();
  plan_cmd->add_option("--prev-result", plan.prev_result_file, "prevResult JSON, when the config has none")
      ->check(CLI::ExistingFile);
  plan_cmd->add_option("--command", plan.command, "ADD or DEL")->capture_default_str()->check(CLI::IsMember({"ADD", "DEL"}));
  plan_cmd->add_flag("--json", plan.json_output, "print the plan as JSON");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode, "exit 0: no changes, 1: error, 2: changes");
  plan_cmd->add_flag("--no-color", plan.no_color, "never color the output");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*plan_cmd) return run_plan(plan);
  } catch (const topo::cni::Error& e) {
    std::cerr << "topoctl: " << e.msg << (e.details.empty() ? "" : " (" + e.details + ")") << "\n";
  } catch (const std::exception& e) {
    std::cerr << "topoctl: " << e.what() << "\n";
  }
  return 1;
}
