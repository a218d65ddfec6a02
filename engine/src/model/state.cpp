#include "topo/model/state.h"

namespace topo {

State merge(State a, const State& b) {
  AllKinds::each([&]<class K>() { add_missing(a.of<K>(), b.of<K>()); });
  return a;
}

const std::string& scope_of(const Object& o) {
  return std::visit([](const auto& v) -> const std::string& { return v.scope; }, o);
}

std::string_view kind_name(const Object& o) {
  return std::visit([](const auto& v) { return std::decay_t<decltype(v)>::kName; }, o);
}

std::string describe(const Object& o) {
  return std::visit([](const auto& v) { return describe(v); }, o);
}

}  // namespace topo
