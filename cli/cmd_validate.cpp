// `topoctl validate FILE...`: loads each template (syntax, keys, parameters, expressions) and renders it with
// synthetic inputs (see render_inputs.h) to find reference and type errors; prints them as
// `FILE:LINE:COL: path: message`, or `FILE: OK`. Exit status 1 when any file has an error.
//
// Every error of a file, not only the first: the loader stops at an error, so after each one the entry that
// holds it (the list item, parameter or var on its path: error_entries.h) is blanked out of the text, which
// keeps every other line where it was, and the file is checked again. An error that cannot be set aside
// (YAML syntax, a top-level shape) ends the list.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "error_entries.h"
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
  ctx.ipam = sample_ipam_result();  // what a template with `ipam: true` reads; validate runs no IPAM plugin
  ctx.facts = &facts;
  ctx.allocator = &allocator;
  t.render(ctx);
}

// The first error in the template `text`, or nothing.
std::optional<Finding> first_error(const std::string& file, const std::string& text, std::string* path) {
  try {
    Template t = Template::load({std::filesystem::path(file).stem().string(), file, text, false});
    // With the defaults, then every flag on, then every flag off: an item behind `when: params.x` renders in
    // the second, one behind `when: not params.x` in the third, whatever the defaults are.
    render_with(t, sample_config(text, SampleBools::Defaults));
    render_with(t, sample_config(text, SampleBools::AllTrue));
    render_with(t, sample_config(text, SampleBools::AllFalse));
    return std::nullopt;
  } catch (const SpecError& e) {
    // Only an error in this file's own text can be set aside (not one in an included fragment or the sample
    // config).
    if (e.file == file) *path = e.path;
    return Finding{e.what(), {{"line", e.line}, {"column", e.column}, {"path", e.path}, {"message", e.message}}};
  } catch (const std::exception& e) {
    return Finding{fmt::format("{}: {}", file, e.what()), {{"line", 0}, {"column", 0}, {"path", ""}, {"message", e.what()}}};
  }
}

// List indices in an error's path as the file has them, though items before were blanked out of the text
// (a blanked item is no longer a list item, so the items after it moved up by one).
class IndexRestorer {
 public:
  // `path` as the file has it.
  std::string original(const std::string& path) const {
    std::string out, prefix;
    size_t i = 0;
    while (i < path.size()) {
      if (path[i] != '[') {
        out += path[i];
        prefix += path[i++];
        continue;
      }
      size_t close = path.find(']', i);
      if (close == std::string::npos) return path;
      size_t index = std::stoul(path.substr(i + 1, close - i - 1));
      auto removed = removed_.find(prefix);
      if (removed != removed_.end())
        for (size_t r : removed->second)  // ascending
          if (r <= index) ++index;
      out += "[" + std::to_string(index) + "]";
      prefix += path.substr(i, close - i + 1);
      i = close + 1;
    }
    return out;
  }
  // The list item at the end of `path` (as the text has it now) was blanked.
  void removed(const std::string& path) {
    size_t open = path.rfind('[');
    if (open == std::string::npos) return;
    std::string list = path.substr(0, open);
    size_t index = std::stoul(path.substr(open + 1));
    auto& set = removed_[list];
    for (size_t r : set)
      if (r <= index) ++index;
    set.insert(index);
  }

 private:
  std::map<std::string, std::set<size_t>> removed_;  // list path -> original indices blanked
};

// The part of `path` up to and including its last list index ("host.links[2].mtu" -> "host.links[2]").
std::string item_path(const std::string& path) {
  size_t close = path.rfind(']');
  return close == std::string::npos ? "" : path.substr(0, close + 1);
}

// Every error in `file`, in the order they were found.
std::vector<Finding> check(const std::string& file) {
  std::vector<Finding> out;
  std::string text;
  try {
    text = read_text_file(file);
  } catch (const std::exception& e) {
    out.push_back({fmt::format("{}: {}", file, e.what()), {{"line", 0}, {"column", 0}, {"path", ""}, {"message", e.what()}}});
    return out;
  }
  IndexRestorer indices;
  for (int round = 0; round < 100; ++round) {  // a bound, not a count of errors any file has
    std::string path;
    auto finding = first_error(file, text, &path);
    if (!finding) break;
    if (!path.empty()) {
      std::string shown = indices.original(path);
      finding->detail["path"] = shown;
      finding->text = fmt::format("{}:{}:{}: {}: {}", file, finding->detail["line"].get<int>(),
                                  finding->detail["column"].get<int>(), shown, finding->detail["message"].get<std::string>());
    }
    bool repeated = !out.empty() && out.back().text == finding->text;
    if (!repeated) out.push_back(std::move(*finding));
    auto lines = path.empty() || repeated ? std::nullopt : entry_lines(text, path);
    if (!lines) break;
    text = blank_lines(text, *lines);
    // entry_lines blanks the deepest list item on the path when there is one.
    if (std::string item = item_path(path); !item.empty()) indices.removed(item);
  }
  // In the file's order: loading finds some errors before rendering finds others.
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::pair{a.detail["line"].get<int>(), a.detail["column"].get<int>()} <
           std::pair{b.detail["line"].get<int>(), b.detail["column"].get<int>()};
  });
  return out;
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
              std::vector<Finding> findings = check(file);
              ok = ok && findings.empty();
              json j = {{"file", file}, {"ok", findings.empty()}, {"errors", json::array()}};
              for (const Finding& f : findings) j["errors"].push_back(f.detail);
              all.push_back(j);
              if (args->json_output) continue;
              for (const Finding& f : findings) std::cout << red(f.text, color) << "\n";
              if (findings.empty()) std::cout << file << ": " << green("OK", color) << "\n";
            }
            if (args->json_output) std::cout << (all.size() == 1 ? all[0] : all).dump(2) << std::endl;
            return ok ? 0 : 1;
          }};
}

}  // namespace topo::cli
