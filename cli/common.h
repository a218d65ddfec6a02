// What every topoctl subcommand shares: how a command is registered and run, when output is colored, how
// `--set key=value` values are typed, and how errors are printed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "topo/error.h"

namespace topo::cli {

// A subcommand: its CLI11 app (to know whether it was chosen) and the function that runs it, returning the
// exit status. Running is separate from parsing so main() can catch engine errors in one place.
struct Command {
  CLI::App* app{nullptr};
  std::function<int()> run;
};

// Color only on a terminal, never with --no-color or $NO_COLOR (https://no-color.org).
bool use_color(bool no_color);

// ANSI SGR wrappers; `on` false returns the text unchanged.
std::string green(const std::string& text, bool on);
std::string red(const std::string& text, bool on);
std::string yellow(const std::string& text, bool on);
std::string dim(const std::string& text, bool on);

// "key=value" pairs into a map. A value that parses as JSON keeps its type (1400, true, null,
// ["10.0.0.0/8"]); anything else is a string (10.0.0.1, eth0). Throws Error naming a malformed pair.
nlohmann::json parse_assignments(const std::vector<std::string>& pairs, const std::string& option);

std::string read_text_file(const std::string& path);
// A JSON file, with a SpecError at the line and column of a syntax error.
nlohmann::json read_json_file(const std::string& path);

// A SpecError about a parameter value ("<network config>", "config.KEY") re-pointed at `--set KEY`, for
// templates run with --set values instead of a config file.
SpecError locate_set(const SpecError& e);

// "topoctl: message" on stderr; a SpecError as "file:line:col: path: message".
void print_error(const std::exception& e);

}  // namespace topo::cli
