// `topoctl validate FILE...`: loads each template (syntax, keys, parameters, expressions) and renders it with
// synthetic inputs (see render_inputs.h) to find reference and type errors; prints them as
// `FILE:LINE:COL: path: message`, or `FILE: OK`. Exit status 1 when any file has an error.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "commands.h"
#include "render_inputs.h"
#include "topo/error.h"
#include "topo/template/template.h"

namespace topo::cli {

namespace {

using nlohmann::json;

struct ValidateArgs {
  std::vector<std::string> files;
  bool json_output = false, no_color = false;
};

struct Finding {
  std::string text;  // as printed
  json detail;       // {line, column, path, message}
};

void render_with(const Template& t, const json& config) {
  SampleFacts facts;
  SampleAllocator allocator;
  RenderContext ctx;
  ctx.config = config;
  ctx.cni = {{"containerId", "validate"}, {"ifname", "eth0"},   {"netns", "/var/run/netns/validate"},
             {"network", "validate"},     {"command", "ADD"},   {"attachment", "validate/validate/eth0"}};
  ctx.prev = sample_prev_result();
  ctx.facts = &facts;
  ctx.allocator = &allocator;
  t.render(ctx);
}

// The first error in `file`, or nothing.
std::optional<Finding> check(const std::string& file) {
  try {
    std::string text = read_text_file(file);
    Template t = Template::load({std::filesystem::path(file).stem().string(), file, text, false});
    // With the defaults, then every flag on, then every flag off: an item behind `when: params.x` renders in
    // the second, one behind `when: not params.x` in the third, whatever the defaults are.
    render_with(t, sample_config(text, SampleBools::Defaults));
    render_with(t, sample_config(text, SampleBools::AllTrue));
    render_with(t, sample_config(text, SampleBools::AllFalse));
    return std::nullopt;
  } catch (const SpecError& e) {
    return Finding{e.what(), {{"line", e.line}, {"column", e.column}, {"path", e.path}, {"message", e.message}}};
  } catch (const std::exception& e) {
    return Finding{fmt::format("{}: {}", file, e.what()), {{"line", 0}, {"column", 0}, {"path", ""}, {"message", e.what()}}};
  }
}

}  // namespace

Command add_validate(CLI::App& app) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "Check templates: syntax, parameters and references; exit 1 on errors");
  cmd->add_option("FILE", args->files, "template files")->required();
  cmd->add_flag("--json", args->json_output, "print the results as JSON");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  return {cmd, [args] {
            bool color = use_color(args->no_color);
            bool ok = true;
            json all = json::array();
            for (const std::string& file : args->files) {
              auto finding = check(file);
              ok = ok && !finding;
              json j = {{"file", file}, {"ok", !finding}, {"errors", json::array()}};
              if (finding) j["errors"].push_back(finding->detail);
              all.push_back(j);
              if (args->json_output) continue;
              if (finding) {
                std::cout << red(finding->text, color) << "\n";
              } else {
                std::cout << file << ": " << green("OK", color) << "\n";
              }
            }
            if (args->json_output) std::cout << (all.size() == 1 ? all[0] : all).dump(2) << std::endl;
            return ok ? 0 : 1;
          }};
}

}  // namespace topo::cli
