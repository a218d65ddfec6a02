// `topoctl apply` and `topoctl destroy`: a topology outside CNI, through the same engine, journal and
// ownership marks as the plugin (see topo/topology_run.h).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "topo/error.h"
#include "topo/plan_format.h"
#include "topo/topology_run.h"

namespace topo::cli {

namespace {

struct RunArgs {
  std::string template_file, name, netns, prev_result_file;
  std::vector<std::string> sets;
  bool json_output = false, no_color = false;
};

// The plan that ran, then one line saying it is done (in JSON: the plan with "applied": true).
void report(const RunArgs& args, const Planned& planned, const std::string& command, const std::string& done) {
  PlanHeader header{topology_attachment(args.name).id(), planned.record.template_name, command};
  if (args.json_output) {
    nlohmann::json j = plan_to_json(planned.plan, header);
    j["applied"] = true;
    std::cout << j.dump(2) << std::endl;
    return;
  }
  bool color = use_color(args.no_color);
  std::cout << format_plan(planned.plan, header, color);
  if (!planned.plan.empty()) std::cout << green(done, color) << "\n";
}

}  // namespace

Command add_apply(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("apply", "Create or update a topology from a template, outside CNI");
  cmd->add_option("-f,--file", args->template_file, "the template (a file NAME.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--name", args->name, "the topology's name: its journal and ownership marks")->required();
  cmd->add_option("--set", args->sets, "a parameter value, key=value (repeatable; JSON values keep their type)");
  cmd->add_option("--netns", args->netns, "network namespace bound to the template's container scope");
  cmd->add_option("--prev-result", args->prev_result_file, "a CNI result JSON the template reads as `prev`")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json_output, "print the applied plan as JSON");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  return {cmd, [args] {
            TopologyRequest req{args->template_file, args->name, args->netns, parse_assignments(args->sets, "--set"),
                                {}, ""};
            if (!args->prev_result_file.empty()) req.prev_result = read_json_file(args->prev_result_file);
            Planned planned;
            try {
              planned = Topologies().apply(req);
            } catch (const SpecError& e) {
              throw locate_set(e);
            }
            report(*args, planned, "apply",
                   fmt::format("Applied: {} added, {} changed, {} destroyed.", planned.plan.count(Action::Create),
                               planned.plan.count(Action::Replace), planned.plan.count(Action::Delete)));
            return 0;
          }};
}

Command add_destroy(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("destroy", "Remove everything a topology made, as its journal records it");
  cmd->add_option("--name", args->name, "the topology's name")->required();
  cmd->add_flag("--json", args->json_output, "print the plan that ran as JSON");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  return {cmd, [args] {
            Planned planned = Topologies().destroy(args->name);
            report(*args, planned, "destroy",
                   fmt::format("Destroyed: {} removed, {} restored.", planned.plan.count(Action::Delete),
                               planned.plan.count(Action::Create) + planned.plan.count(Action::Replace)));
            return 0;
          }};
}

}  // namespace topo::cli
