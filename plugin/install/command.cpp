// `topocni install` / `topocni uninstall`: flags (a contract the deployment manifests are written against,
// see docs/operations.md), then installer.cpp does the work. `--sleep` keeps a DaemonSet's container alive
// after installing: an image built from scratch has no sleep binary.
#include "install/command.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "install/install_error.h"
#include "install/installer.h"

namespace topo::install {

namespace {

// Blocks until SIGTERM or SIGINT (a pod's stop, or Ctrl-C). The signals are blocked and taken with
// sigwait, so no handler runs at an arbitrary point.
void wait_for_stop(std::ostream& out) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  out << "installed; waiting for SIGTERM or SIGINT" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  out << "stopping on " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << std::endl;
}

}  // namespace

int run_command(int argc, char** argv) {
  CLI::App app{
      "topocni: a CNI plugin (a runtime runs it without arguments); with arguments, its own installer"};
  app.require_subcommand(1);

  InstallOptions in;
  bool sleep = false;
  auto* inst =
      app.add_subcommand("install", "Install topocni into a node's CNI bin dir, with templates and config");
  inst->add_option("--cni-bin-dir", in.cni_bin_dir, "the runtime's CNI plugin directory")
      ->capture_default_str();
  inst->add_option("--names", in.names, "names the plugin also serves, comma-separated (symlinks to topocni)")
      ->delimiter(',')
      ->capture_default_str();
  inst->add_option("--templates-dir", in.templates_dir, "where user templates go")->capture_default_str();
  inst->add_option("--template", in.templates, "a user template file NAME.yaml to install (repeatable)");
  auto* conflist = inst->add_option("--conflist", in.conflist, "a conflist to insert --entry into");
  auto* after = inst->add_option("--after", in.after, "insert after the plugin of this type");
  auto* entry = inst->add_option("--entry", in.entry, "the plugin entry to insert (JSON)");
  conflist->needs(after)->needs(entry);
  after->needs(conflist);
  entry->needs(conflist);
  auto* write =
      inst->add_option("--write-conflist", in.write_conflist, "write a whole conflist to this path");
  auto* json =
      inst->add_option("--conflist-json", in.conflist_json, "the conflist --write-conflist writes (JSON)");
  write->needs(json);
  json->needs(write);
  inst->add_flag("--sleep", sleep, "after installing, wait for SIGTERM or SIGINT, then exit 0");

  UninstallOptions un;
  auto* uninst = app.add_subcommand("uninstall", "Remove what install put on the node");
  uninst->add_option("--cni-bin-dir", un.cni_bin_dir, "the runtime's CNI plugin directory")
      ->capture_default_str();
  uninst->add_option("--names", un.names, "names to remove, comma-separated (only links to topocni go)")
      ->delimiter(',')
      ->capture_default_str();
  uninst->add_option("--templates-dir", un.templates_dir, "where user templates are")->capture_default_str();
  uninst->add_option("--template", un.templates, "an installed template's name to remove (repeatable)");
  auto* un_conflist =
      uninst->add_option("--conflist", un.conflist, "a conflist to remove the --type entries from");
  auto* un_type = uninst->add_option("--type", un.type, "the type of the plugin entries to remove");
  un_conflist->needs(un_type);
  un_type->needs(un_conflist);

  CLI11_PARSE(app, argc, argv);
  try {
    if (*inst) {
      install(in, std::cout);
      if (sleep) wait_for_stop(std::cout);
    } else {
      uninstall(un, std::cout);
    }
    return 0;
  } catch (const InstallError& e) {
    std::cerr << "topocni " << (*inst ? "install" : "uninstall") << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "topocni " << (*inst ? "install" : "uninstall") << ": " << e.what() << "\n";
  }
  return 1;
}

}  // namespace topo::install
