// The shared-object registry (lifecycle/shared_objects.cpp): whether it reads. A damaged one stops every ADD
// and DEL of a template with shared objects (code 5) until an operator rebuilds or removes it.
#include <fmt/format.h>

#include "doctor.h"
#include "topo/error.h"
#include "topo/journal.h"
#include "topo/shared_objects.h"
#include "topo/state_dir.h"

namespace topo::cli::doctor {

void check_shared_registry(const Node& node, std::vector<Finding>& out) {
  Journal journal(node.options.state_dir);
  SharedObjects registry(journal.dir());
  std::string checked = "the shared-object registry in " + journal.dir() + ", read strictly";
  try {
    std::vector<SharedEntry> entries = registry.load();
    size_t users = 0;
    for (const SharedEntry& e : entries) users += e.users.size();
    out.push_back({"shared-registry", Status::Ok, "", checked,
                   fmt::format("{} shared object(s), {} registration(s)", entries.size(), users), ""});
  } catch (const StateDirError& e) {
    out.push_back({"shared-registry", Status::Problem, journal.dir() + "/shared.json", checked,
                   fmt::format("{}; ADD and DEL of templates with shared objects fail with code 5 until it reads",
                               e.what()),
                   "`topoctl show --shared` lists what it still says; rebuild it from the journals' \"shared\" "
                   "keys, or remove it once no pod uses a shared object (docs/operations.md)"});
  }
}

}  // namespace topo::cli::doctor
