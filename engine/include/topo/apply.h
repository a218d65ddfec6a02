#pragma once

#include "topo/kernel.h"
#include "topo/plan.h"

namespace topo {

// Executes the plan. If a step fails, the steps this call already did are undone in reverse order (best
// effort: an undo failure is logged to stderr, not thrown over the original error), then the error is rethrown.
void apply(const Plan& plan, Kernel& kernel);

}  // namespace topo
