// A topology: every object of every kind, in any scope. Used for the desired state (rendered from a
// template), the observed state (read from the kernel) and the journal.
#pragma once

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "topo/model/address.h"
#include "topo/model/link.h"
#include "topo/model/nat.h"
#include "topo/model/route.h"
#include "topo/model/rule.h"
#include "topo/model/sysctl.h"

namespace topo {

struct State {
  std::vector<Link> links;
  std::vector<Address> addresses;
  std::vector<Route> routes;
  std::vector<Rule> rules;
  std::vector<NatEntry> nat;
  std::vector<Sysctl> sysctls;

  bool empty() const {
    return links.empty() && addresses.empty() && routes.empty() && rules.empty() && nat.empty() &&
           sysctls.empty();
  }
  size_t size() const {
    return links.size() + addresses.size() + routes.size() + rules.size() + nat.size() + sysctls.size();
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
using Object = std::variant<Link, Sysctl, Address, Route, Rule, NatEntry>;

const std::string& scope_of(const Object& o);
std::string_view kind_name(const Object& o);  // "link", "sysctl", "address", "route", "rule", "nat"

// One line in iproute2/nft vocabulary, e.g. "route 10.0.0.5/32 dev veth1a2b scope link table main".
std::string describe(const Object& o);

}  // namespace topo
