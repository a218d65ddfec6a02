// How a plan is shown: `+` create, `-` delete, `~` change (old → new), grouped by namespace, then a summary
// line as terraform prints it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "topo/plan.h"

namespace topo {

struct PlanHeader {
  std::string attachment;  // "cni0/<container id>/eth0"
  std::string template_name;
  std::string command;  // "ADD" or "DEL"
  // ADD (apply) only: the template rendered no object at all, which an author usually did not mean; said
  // before the summary so "No changes." is not read as "already in place".
  bool renders_nothing = false;
};

// The note format_plan prints for `renders_nothing`; topoctl render's YAML starts with it too.
inline constexpr const char* kRendersNothing =
    "The template renders no objects (check its when: conditions and parameters).";

std::string format_plan(const Plan& plan, const PlanHeader& header, bool color);
std::string plan_summary(const Plan& plan);  // "Plan: 3 to add, 0 to change, 0 to destroy." or "No changes."
nlohmann::json plan_to_json(const Plan& plan, const PlanHeader& header);

}  // namespace topo
