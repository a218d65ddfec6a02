// `topoctl templates`: every template the plugin can find, in search order, and which one wins per name.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "commands.h"
#include "table.h"
#include "topo/attachment.h"
#include "topo/template/template.h"

namespace topo::cli {

namespace {

using nlohmann::json;

struct TemplatesArgs {
  bool json_output = false, no_color = false;
};

// The template's `description`, on one line; "" when the file does not even parse (validate says why).
std::string description_of(const TemplateSource& s) {
  try {
    YAML::Node d = YAML::Load(s.text)["description"];
    if (!d || !d.IsScalar()) return "";
    std::string text;
    for (char c : d.Scalar()) text += (c == '\n' || c == '\t') ? ' ' : c;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
  } catch (const std::exception&) {
    return "";
  }
}

std::string shorten(const std::string& text, size_t max) {
  return text.size() <= max ? text : text.substr(0, max - 3) + "...";
}

}  // namespace

Command add_templates(CLI::App& app) {
  auto args = std::make_shared<TemplatesArgs>();
  auto* cmd = app.add_subcommand("templates", "List built-in and user templates, and which one wins per name");
  cmd->add_flag("--json", args->json_output, "print the list as JSON");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  return {cmd, [args] {
            Options options = Options::from_environment();
            TemplateLibrary library(options.template_dirs);
            // list(): per name, the winner first and the sources it shadows after it.
            std::vector<TemplateSource> all = library.list();
            json out = json::array();
            std::vector<std::vector<std::string>> rows = {{"NAME", "SOURCE", "STATUS", "DESCRIPTION"}};
            std::vector<std::string (*)(const std::string&, bool)> paint = {nullptr};
            std::string winner_file;
            for (size_t i = 0; i < all.size(); ++i) {
              const TemplateSource& s = all[i];
              bool active = i == 0 || all[i - 1].name != s.name;
              if (active) winner_file = s.file;
              json j = {{"name", s.name}, {"file", s.file}, {"builtin", s.builtin}, {"active", active},
                        {"description", description_of(s)}};
              if (!active) j["shadowedBy"] = winner_file;
              out.push_back(j);
              rows.push_back({s.name, s.file, active ? "active" : "shadowed", shorten(description_of(s), 70)});
              paint.push_back(active ? nullptr : dim);
            }
            if (args->json_output) {
              std::cout << json{{"searchPath", options.template_dirs}, {"templates", out}}.dump(2) << std::endl;
              return 0;
            }
            std::cout << fmt::format("Search order: {}{}the built-in templates\n\n",
                                     fmt::join(options.template_dirs, ", "), options.template_dirs.empty() ? "" : ", then ");
            std::cout << format_table(rows, paint, use_color(args->no_color));
            return 0;
          }};
}

}  // namespace topo::cli
