// topoctl: the operator's and template author's CLI over the engine: list, render, validate and plan
// templates; apply, destroy and show topologies outside CNI. Each subcommand lives in its own cmd_*.cpp.
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"topoctl: author, plan and run topocni topologies"};
  app.require_subcommand(1);
  std::vector<topo::cli::Command> commands = {
      topo::cli::add_templates(app), topo::cli::add_render(app), topo::cli::add_validate(app),
      topo::cli::add_plan(app),      topo::cli::add_apply(app),  topo::cli::add_destroy(app),
      topo::cli::add_show(app),      topo::cli::add_doctor(app)};
  CLI11_PARSE(app, argc, argv);
  // Engine errors are caught here only, so every subcommand reports them the same way (exit status 1).
  try {
    for (const auto& c : commands) {
      if (*c.app) return c.run();
    }
  } catch (const std::exception& e) {
    topo::cli::print_error(e);
  }
  return 1;
}
