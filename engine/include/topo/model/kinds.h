// The registry of object kinds: every kind a topology can hold, in the order creates run (deletes run in
// reverse). State, Object, the journal, the diff, the kernel dispatch and the template sections are all
// generated from this one list.
//
// Adding a kind (docs/architecture.md, "Adding a kind"): its value type in a header of this folder, its unit
// under engine/src/kinds/<kind>/, and one entry in AllKinds below.
#pragma once

#include <tuple>
#include <variant>
#include <vector>

#include "topo/model/address.h"
#include "topo/model/link.h"
#include "topo/model/nat.h"
#include "topo/model/neighbour.h"
#include "topo/model/route.h"
#include "topo/model/rule.h"
#include "topo/model/sysctl.h"

namespace topo {

template <class... T>
struct KindList {
  using Variant = std::variant<T...>;
  using Vectors = std::tuple<std::vector<T>...>;
  // Calls f.template operator()<K>() for every kind K, in list order.
  template <class F>
  static void each(F&& f) {
    (f.template operator()<T>(), ...);
  }
};

using AllKinds = KindList<Link, Sysctl, Address, Neighbour, Route, Rule, NatEntry>;

// Whether T is one of the registered kinds.
template <class T, class List>
struct IsKindOf;
template <class T, class... K>
struct IsKindOf<T, KindList<K...>> : std::bool_constant<(std::is_same_v<T, K> || ...)> {};
template <class T>
concept ObjectKind = IsKindOf<T, AllKinds>::value;

}  // namespace topo
