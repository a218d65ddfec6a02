// `topoctl plan`: what the plugin (--config) or `topoctl apply` (-f) would change; a dry run.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "cni/request.h"
#include "config_file.h"
#include "topo/attachment.h"
#include "topo/error.h"
#include "topo/plan_format.h"
#include "topo/topology_run.h"

namespace topo::cli {

namespace {

using nlohmann::json;

struct PlanArgs {
  std::string config_file, netns, container_id, ifname = "eth0", prev_result_file, command = "ADD";
  std::string ipam_result_file;  // what a template with `ipam: true` reads as `ipam` (plan runs no IPAM plugin)
  std::string template_file, name;
  std::vector<std::string> sets;
  bool json_output = false, detailed_exitcode = false, no_color = false;
};

struct Output {
  bool changes = false;
  json all = json::array();
};

void emit(const PlanArgs& args, const Plan& plan, const PlanHeader& header, Output& out) {
  out.changes = out.changes || !plan.empty();
  if (args.json_output) {
    out.all.push_back(plan_to_json(plan, header));
  } else {
    std::cout << format_plan(plan, header, use_color(args.no_color));
  }
}

void plan_config(const PlanArgs& args, Output& out) {
  if (args.netns.empty() || args.container_id.empty()) {
    throw Error("plan --config needs --netns and --container-id (as CNI_NETNS and CNI_CONTAINERID)");
  }
  ConfigFile config(args.config_file);
  auto entries = config.plugin_configs(args.container_id, args.ifname, args.prev_result_file);
  if (entries.empty()) throw Error(fmt::format("{}: no plugin in this config has a topocni template", args.config_file));
  Attachments attachments(Options::from_environment());
  for (const auto& entry : entries) {
    Request req = cni::request_of(entry.config, args.command, args.container_id, args.netns, args.ifname);
    if (!args.ipam_result_file.empty()) req.ipam = read_json_file(args.ipam_result_file);
    Planned planned;
    try {
      planned = attachments.plan(req);
    } catch (const SpecError& e) {
      throw config.locate(e);  // values from the config file: point at its line and key
    }
    bool renders_nothing = args.command == "ADD" && planned.record.state.empty();
    emit(args, planned.plan, {req.attachment.id(), entry.template_name, args.command, renders_nothing},
         out);
  }
}

void plan_topology(const PlanArgs& args, Output& out) {
  if (args.name.empty()) throw Error("plan -f needs --name (the topology's name)");
  Topologies topologies;
  Planned planned;
  std::string command = args.command == "DEL" ? "destroy" : "apply";
  if (args.command == "DEL") {
    planned = topologies.plan_destroy(args.name);
  } else {
    if (args.template_file.empty()) throw Error("plan --name needs -f FILE (or --command DEL)");
    TopologyRequest req{args.template_file, args.name, args.netns, parse_assignments(args.sets, "--set"), {}, ""};
    if (!args.prev_result_file.empty()) req.prev_result = read_json_file(args.prev_result_file);
    try {
      planned = topologies.plan(req);
    } catch (const SpecError& e) {
      throw locate_set(e);
    }
  }
  bool renders_nothing = command == "apply" && planned.record.state.empty();
  emit(args, planned.plan,
       {topology_attachment(args.name).id(), planned.record.template_name, command, renders_nothing}, out);
}

}  // namespace

Command add_plan(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  auto* cmd = app.add_subcommand(
      "plan", "Show what the plugin (--config) or `topoctl apply` (-f) would change; changes nothing");
  auto* config = cmd->add_option("--config", args->config_file, "CNI network config: one plugin's config or a conflist")
                     ->check(CLI::ExistingFile);
  auto* file = cmd->add_option("-f,--file", args->template_file, "a template to plan as a topology (see apply)")
                   ->check(CLI::ExistingFile);
  config->excludes(file);
  cmd->add_option("--name", args->name, "the topology's name (with -f, or with --command DEL)");
  cmd->add_option("--set", args->sets, "a parameter value, key=value (with -f; repeatable)");
  cmd->add_option("--netns", args->netns, "the pod's network namespace (CNI_NETNS); with -f, the container scope");
  cmd->add_option("--container-id", args->container_id, "CNI_CONTAINERID");
  cmd->add_option("--ifname", args->ifname, "CNI_IFNAME")->capture_default_str();
  cmd->add_option("--ipam-result", args->ipam_result_file,
                  "an IPAM plugin's result JSON, what a template with `ipam: true` reads as `ipam` (with --config)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--prev-result", args->prev_result_file, "prevResult JSON, when the config has none")
      ->check(CLI::ExistingFile);
  cmd->add_option("--command", args->command, "ADD or DEL")->capture_default_str()->check(CLI::IsMember({"ADD", "DEL"}));
  cmd->add_flag("--json", args->json_output, "print the plan as JSON");
  cmd->add_flag("--detailed-exitcode", args->detailed_exitcode, "exit 0: no changes, 1: error, 2: changes");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  return {cmd, [args] {
            Output out;
            if (!args->config_file.empty()) {
              plan_config(*args, out);
            } else if (!args->template_file.empty() || !args->name.empty()) {
              plan_topology(*args, out);
            } else {
              throw Error("plan needs --config FILE (a CNI attachment) or -f FILE --name NAME (a topology)");
            }
            if (args->json_output) std::cout << (out.all.size() == 1 ? out.all[0] : out.all).dump(2) << std::endl;
            return args->detailed_exitcode && out.changes ? 2 : 0;
          }};
}

}  // namespace topo::cli
