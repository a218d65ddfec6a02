// Executing a plan, and the one place that undoes: a failed ADD, a failed batch and DEL's keep-going removal
// all go through plan/executor.cpp.
#pragma once

#include <string>
#include <vector>

#include "topo/kernel.h"
#include "topo/plan.h"

namespace topo {

// Executes the plan. If a step fails, every change that took effect (also those a netlink batch carried out
// after the failing request) is undone, newest first, best effort (an undo failure is logged to stderr, not
// thrown over the original error); then the error is rethrown.
void apply(const Plan& plan, Kernel& kernel);

// Executes every change it can: a change that fails is recorded and the rest still run. A delete whose object
// is already gone (the kind's already_gone) counts as done. Returns the failures, one line each.
std::vector<std::string> apply_keep_going(const std::vector<Change>& changes, Kernel& kernel);

}  // namespace topo
