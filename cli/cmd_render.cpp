// `topoctl render`: the desired state a template gives for some inputs, as YAML in the template format (or
// JSON); never changes the kernel. Host facts and allocations come from the command line, else from the live
// host as a dry run.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "config_file.h"
#include "render_inputs.h"
#include "state_yaml.h"
#include "topo/attachment.h"
#include "topo/error.h"
#include "topo/model/json.h"
#include "topo/plan_format.h"
#include "topo/template/template.h"
#include "topo/topology_run.h"

namespace topo::cli {

namespace {

using nlohmann::json;

struct RenderArgs {
  std::string config_file, template_arg, container_id = "render", ifname, netns, prev_result_file;
  std::string ipam_result_file;  // what a template with `ipam: true` reads as `ipam` (render runs no IPAM plugin)
  std::vector<std::string> sets, facts, allocs;
  bool offline = false, json_output = false, no_color = false;
};

// One rendering: the template, the attachment it was rendered for and the config its parameters came from.
struct Input {
  TemplateSource source;
  Attachment attachment;
  json config;
};

TemplateSource find_template(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) {
    return {std::filesystem::path(arg).stem().string(), arg, read_text_file(arg), false};
  }
  TemplateLibrary library(Options::from_environment().template_dirs);
  if (auto found = library.find(arg)) return *found;
  throw Error(fmt::format("--template {}: neither a file nor a template name (see `topoctl templates`)", arg));
}

std::vector<Input> inputs(const RenderArgs& args, std::unique_ptr<ConfigFile>& config_file) {
  std::vector<Input> out;
  if (!args.template_arg.empty()) {
    // As `topoctl apply -f` runs it: network "topoctl", interface "-", unless told otherwise. A prevResult
    // means a CNI attachment is being previewed, and runtimes name the pod's interface eth0: templates
    // that pick prevResult's addresses by cni.ifname would otherwise find none and render silently less.
    json config = parse_assignments(args.sets, "--set");
    if (!args.prev_result_file.empty()) config["prevResult"] = read_json_file(args.prev_result_file);
    std::string ifname = !args.ifname.empty()              ? args.ifname
                         : config.contains("prevResult") ? std::string("eth0")
                                                         : std::string(kTopologyIfname);
    out.push_back({find_template(args.template_arg), {kTopologyNetwork, args.container_id, ifname}, config});
    return out;
  }
  std::string ifname = args.ifname.empty() ? "eth0" : args.ifname;
  config_file = std::make_unique<ConfigFile>(args.config_file);
  auto entries = config_file->plugin_configs(args.container_id, ifname, args.prev_result_file);
  if (entries.empty()) throw Error(fmt::format("{}: no plugin in this config has a topocni template", args.config_file));
  TemplateLibrary library(Options::from_environment().template_dirs);
  for (const auto& e : entries) {
    out.push_back({*library.find(e.template_name), {e.config.value("name", ""), args.container_id, ifname, e.template_name},
                   e.config});
  }
  return out;
}

}  // namespace

Command add_render(CLI::App& app) {
  auto args = std::make_shared<RenderArgs>();
  auto* cmd = app.add_subcommand("render", "Print the desired state a template renders to; touches no kernel state");
  auto* config = cmd->add_option("--config", args->config_file, "CNI network config: one plugin's config or a conflist")
                     ->check(CLI::ExistingFile);
  auto* tmpl = cmd->add_option("-t,--template", args->template_arg, "a template file, or a template's name");
  config->excludes(tmpl);
  cmd->add_option("--set", args->sets, "a parameter value, key=value (with --template; repeatable)");
  cmd->add_option("--container-id,--name", args->container_id, "CNI_CONTAINERID, or the topology's name")
      ->capture_default_str();
  cmd->add_option("--ifname", args->ifname, "CNI_IFNAME (default: eth0; - with --template and no prevResult)");
  cmd->add_option("--netns", args->netns, "CNI_NETNS, as the template sees it in cni.netns");
  cmd->add_option("--ipam-result", args->ipam_result_file,
                  "an IPAM plugin's result JSON, what a template with `ipam: true` reads as `ipam`")
      ->check(CLI::ExistingFile);
  cmd->add_option("--prev-result", args->prev_result_file, "prevResult JSON, when the config has none")
      ->check(CLI::ExistingFile);
  cmd->add_option("--fact", args->facts,
                  "a host fact: IFNAME.addresses=CIDR[,CIDR...], default.ipv4=IFNAME, default.ipv6=IFNAME or "
                  "toward.DST=SRC (repeatable)");
  cmd->add_option("--set-alloc", args->allocs, "a fixed allocation, name=value (e.g. table=100; repeatable)");
  cmd->add_flag("--offline", args->offline, "never read the host: facts only from --fact");
  cmd->add_flag("--json", args->json_output, "print JSON instead of YAML");
  cmd->add_flag("--no-color", args->no_color, "never color the output (render prints none)");
  return {cmd, [args] {
            if (args->config_file.empty() && args->template_arg.empty()) {
              throw Error("render needs --config FILE or --template FILE|NAME");
            }
            std::unique_ptr<ConfigFile> config_file;
            json fixed = parse_assignments(args->allocs, "--set-alloc");
            json all = json::array();
            std::string yaml;
            for (const Input& in : inputs(*args, config_file)) {
              Template t = Template::load(in.source);
              PreviewFacts facts(parse_facts(args->facts, in.config), args->offline);
              PreviewAllocator allocator(fixed, in.attachment, args->netns, args->offline);
              RenderContext ctx;
              ctx.config = in.config;
              ctx.cni = {{"containerId", in.attachment.container_id}, {"ifname", in.attachment.ifname},
                         {"netns", args->netns},                       {"network", in.attachment.network},
                         {"command", "ADD"},                           {"attachment", in.attachment.interface_id()}};
              ctx.prev = in.config.value("prevResult", json());
              if (!args->ipam_result_file.empty()) ctx.ipam = read_json_file(args->ipam_result_file);
              ctx.facts = &facts;
              ctx.allocator = &allocator;
              Rendered r;
              try {
                r = t.render(ctx);
              } catch (const SpecError& e) {
                if (config_file) throw config_file->locate(e);
                throw locate_set(e);
              }
              if (args->json_output) {
                json j = {{"template", in.source.name}, {"file", in.source.file}, {"attachment", in.attachment.id()},
                          {"params", r.params},         {"allocations", r.allocations}};
                j.update(state_by_scope(r.state));
                if (!r.result.is_null()) j["result"] = r.result;  // the template's declared CNI result
                all.push_back(j);
              } else {
                if (!yaml.empty()) yaml += "---\n";
                std::vector<std::string> comment;
                if (r.state.empty()) comment.push_back(kRendersNothing);  // first: what an author must see
                comment.insert(comment.end(), {fmt::format("template: {} ({})", in.source.name, in.source.file),
                                               fmt::format("attachment: {}", in.attachment.id()),
                                               fmt::format("params: {}", r.params.dump()),
                                               fmt::format("allocations: {}", r.allocations.dump())});
                yaml += state_to_yaml(r.state, comment);
              }
            }
            if (args->json_output) {
              std::cout << (all.size() == 1 ? all[0] : all).dump(2) << std::endl;
            } else {
              std::cout << yaml;
            }
            return 0;
          }};
}

}  // namespace topo::cli
