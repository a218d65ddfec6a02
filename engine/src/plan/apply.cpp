#include "topo/apply.h"

#include <fmt/format.h>

namespace topo {

void apply(const Plan& plan, Kernel& kernel) {
  size_t done = 0;
  try {
    kernel.execute(plan.changes, done);
  } catch (const std::exception& failure) {
    // Undo exactly what took effect, newest first, so a failed ADD leaves nothing behind.
    std::vector<Change> undo;
    for (size_t i = done; i-- > 0;) undo.push_back(inverse(plan.changes[i]));
    size_t undone = 0;
    try {
      kernel.execute(undo, undone);
    } catch (const std::exception& e) {
      fmt::print(stderr, "topocni: rollback stopped after {} of {} steps: {}\n", undone, undo.size(), e.what());
    }
    throw;
  }
}

}  // namespace topo
