#include "topo/plan_format.h"

#include <map>

#include <fmt/format.h>

#include "topo/model/json.h"

namespace topo {

namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kReset = "\033[0m";

std::string line_for(const Change& c, bool color) {
  auto paint = [&](const char* code, const std::string& text) {
    return color ? fmt::format("{}{}{}", code, text, kReset) : text;
  };
  switch (c.action) {
    case Action::Create: return paint(kGreen, "+ " + describe(c.object));
    case Action::Delete: return paint(kRed, "- " + describe(c.object));
    case Action::Replace: return paint(kYellow, fmt::format("~ {} → {}", describe(*c.previous), describe(c.object)));
  }
  return "";
}

}  // namespace

std::string plan_summary(const Plan& plan) {
  if (plan.empty()) return "No changes.";
  return fmt::format("Plan: {} to add, {} to change, {} to destroy.", plan.count(Action::Create),
                     plan.count(Action::Replace), plan.count(Action::Delete));
}

std::string format_plan(const Plan& plan, const PlanHeader& header, bool color) {
  std::string out = fmt::format("topocni {} plan for {} (template {})\n", header.command, header.attachment,
                                header.template_name);
  // Group by namespace, keeping the execution order inside each group; "host" first, as the plan runs it.
  std::map<std::string, std::vector<const Change*>> groups;
  std::vector<std::string> order;
  for (const Change& c : plan.changes) {
    const std::string& scope = scope_of(c.object);
    if (!groups.contains(scope)) order.push_back(scope);
    groups[scope].push_back(&c);
  }
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return (a == "host") > (b == "host");
  });
  for (const std::string& scope : order) {
    out += fmt::format("\n{}:\n", scope);
    for (const Change* c : groups[scope]) out += "  " + line_for(*c, color) + "\n";
  }
  out += "\n";
  if (header.renders_nothing) out += std::string(kRendersNothing) + "\n";
  out += plan_summary(plan) + "\n";
  return out;
}

nlohmann::json plan_to_json(const Plan& plan, const PlanHeader& header) {
  nlohmann::json changes = nlohmann::json::array();
  for (const Change& c : plan.changes) changes.push_back(change_to_json(c));
  return {{"attachment", header.attachment},
          {"template", header.template_name},
          {"command", header.command},
          {"changes", changes},
          {"summary",
           {{"add", plan.count(Action::Create)},
            {"change", plan.count(Action::Replace)},
            {"destroy", plan.count(Action::Delete)}}}};
}

}  // namespace topo
