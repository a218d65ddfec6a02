#include "topo/plan.h"

#include <algorithm>

namespace topo {

size_t Plan::count(Action a) const {
  return static_cast<size_t>(
      std::count_if(changes.begin(), changes.end(), [a](const Change& c) { return c.action == a; }));
}

Change inverse(const Change& c) {
  switch (c.action) {
    case Action::Create: return {Action::Delete, c.object, std::nullopt};
    case Action::Delete: return {Action::Create, c.object, std::nullopt};
    case Action::Replace: return {Action::Replace, *c.previous, c.object};
  }
  return c;
}

std::string operation_of(const Change& c) {
  static constexpr const char* kVerbs[] = {"create", "delete", "replace"};
  return std::string(kVerbs[static_cast<int>(c.action)]) + " " + std::string(kind_name(c.object));
}

}  // namespace topo
