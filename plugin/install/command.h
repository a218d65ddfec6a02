// topocni's own command line, used only when it is run with arguments (`topocni install ...`): a runtime
// runs a CNI plugin without any, so the CNI path is unaffected.
#pragma once

namespace topo::install {

// Parses argv (install | uninstall and their flags), runs the command, and returns the exit status:
// 0 done, 1 refused or failed (the reason on stderr), CLI11's status for a usage error.
int run_command(int argc, char** argv);

}  // namespace topo::install
