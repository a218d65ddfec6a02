// A topology: every object of every kind, in any scope. Used for the desired state (rendered from a
// template), the observed state (read from the kernel) and the journal. Its shape comes from the kind
// registry (kinds.h): one vector per kind, reached with of<Kind>().
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "topo/model/kinds.h"

namespace topo {

struct State {
  AllKinds::Vectors all;

  template <ObjectKind K>
  std::vector<K>& of() {
    return std::get<std::vector<K>>(all);
  }
  template <ObjectKind K>
  const std::vector<K>& of() const {
    return std::get<std::vector<K>>(all);
  }

  bool empty() const {
    return std::apply([](const auto&... v) { return (v.empty() && ...); }, all);
  }
  size_t size() const {
    return std::apply([](const auto&... v) { return (v.size() + ... + 0); }, all);
  }
};

// Appends the objects of `from` whose key is not in `into` yet.
template <class T>
void add_missing(std::vector<T>& into, const std::vector<T>& from) {
  for (const T& x : from) {
    if (std::none_of(into.begin(), into.end(), [&](const T& y) { return y.key() == x.key(); })) into.push_back(x);
  }
}

// Union by key: `a` wins where both have an object with the same key.
State merge(State a, const State& b);

// One object of any kind. The order of alternatives is the order creates run in (deletes run in reverse).
using Object = AllKinds::Variant;

const std::string& scope_of(const Object& o);
std::string_view kind_name(const Object& o);  // each kind's kName: "link", "sysctl", "address", ...

// One line in iproute2/nft vocabulary, e.g. "route 10.0.0.5/32 dev veth1a2b scope link table main".
std::string describe(const Object& o);

}  // namespace topo
