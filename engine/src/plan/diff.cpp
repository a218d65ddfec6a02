#include "topo/diff.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "kinds/absent.h"
#include "kinds/registry.h"
#include "topo/error.h"

namespace topo {

namespace {

// Kind order is the Object variant's alternative order: links, sysctls, addresses, routes, rules, NAT.
constexpr size_t kKinds = std::variant_size_v<Object>;

// How many links a link stands on (its master, its parent) among those a plan touches: a bridge before its
// ports, a parent before its children. Deletes run the other way round.
using LinkDepths = std::map<std::pair<std::string, std::string>, size_t>;

LinkDepths link_depths(const std::vector<Change>& deletes, const std::vector<Change>& rest) {
  std::map<std::pair<std::string, std::string>, const Link*> links;
  for (const auto* changes : {&deletes, &rest})
    for (const Change& c : *changes)
      if (const Link* l = std::get_if<Link>(&c.object)) links.emplace(std::pair{l->scope, l->name}, l);
  LinkDepths depth;
  // Each pass settles one more level; more passes than links means the links name each other in a circle.
  for (size_t pass = 0; pass <= links.size(); ++pass) {
    bool changed = false;
    for (auto& [key, l] : links) {
      size_t d = 0;
      for (auto dep : {std::pair{l->scope, l->master}, std::pair{l->parent_scope.empty() ? l->scope : l->parent_scope, l->parent}}) {
        if (dep.second.empty() || !links.contains(dep)) continue;
        d = std::max(d, depth[dep] + 1);
      }
      if (depth[key] != d) {
        depth[key] = d;
        changed = true;
      }
    }
    if (!changed) return depth;
  }
  throw ConflictError("the template's links name each other as master or parent in a circle");
}

// Links in dependency order; routes without a gateway first (a gateway must be reachable, by a link route,
// before a route uses it); otherwise by key.
bool create_before(const Object& a, const Object& b, const LinkDepths& depths) {
  if (a.index() != b.index()) return a.index() < b.index();
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, Link>) {
          size_t dx = depths.at({x.scope, x.name}), dy = depths.at({y.scope, y.name});
          if (dx != dy) return dx < dy;
        }
        if constexpr (std::is_same_v<T, Route>) {
          if (x.gateway.has_value() != y.gateway.has_value()) return !x.gateway.has_value();
        }
        return x.key() < y.key();
      },
      a);
}

void sort_plan(std::vector<Change>& deletes, std::vector<Change>& rest, Plan& plan) {
  LinkDepths depths = link_depths(deletes, rest);
  std::sort(deletes.begin(), deletes.end(),
            [&](const Change& a, const Change& b) { return create_before(b.object, a.object, depths); });
  std::sort(rest.begin(), rest.end(),
            [&](const Change& a, const Change& b) { return create_before(a.object, b.object, depths); });
  plan.changes = std::move(deletes);
  plan.changes.insert(plan.changes.end(), rest.begin(), rest.end());
}

template <class T>
void diff_kind(const std::vector<T>& desired, const std::vector<T>& observed, std::vector<Change>& deletes,
               std::vector<Change>& rest) {
  using Key = decltype(std::declval<const T&>().key());
  std::map<Key, const T*> seen;
  for (const T& o : observed) seen.emplace(o.key(), &o);
  std::map<Key, const T*> wanted;
  for (const T& d : desired) {
    if (!wanted.emplace(d.key(), &d).second) continue;  // a template may yield the same object twice
    auto it = seen.find(d.key());
    if (it == seen.end()) {
      rest.push_back({Action::Create, d, std::nullopt});
      continue;
    }
    const T& o = *it->second;
    if (d == o) continue;
    if (!KindOps<T>::may_replace(d, o)) {
      throw ConflictError(fmt::format("{}: {} already exists in namespace '{}' and {} ({})", kind_name(Object(d)),
                                      describe(d), d.scope,
                                      KindOps<T>::owned(o) ? "belongs to another topocni attachment" : "is not topocni's",
                                      describe(o)));
    }
    rest.push_back({Action::Replace, d, o});
  }
  for (const T& o : observed) {
    if (!wanted.contains(o.key()) && KindOps<T>::owned(o)) deletes.push_back({Action::Delete, o, std::nullopt});
  }
}

// Links need more than the generic rule: referenced links must exist, a veth's peer name must be free (or be
// a leftover half of this very attachment, which is then deleted and re-created), and a master the template
// makes itself must be a bridge or vrf (one made by someone else is checked when the link joins it).
void check_links(const State& desired, const State& observed, std::vector<Change>& deletes) {
  std::map<std::tuple<std::string, std::string>, const Link*> seen, wanted;
  for (const Link& l : observed.of<Link>()) seen.emplace(l.key(), &l);
  for (const Link& d : desired.of<Link>()) wanted.emplace(d.key(), &d);
  for (const Link& d : desired.of<Link>()) {
    if (d.kind == LinkKind::Existing) {
      if (!seen.contains(d.key())) {
        throw ConflictError(fmt::format("interface '{}' does not exist in namespace '{}'", d.name, d.scope));
      }
      continue;
    }
    if (!d.master.empty()) {
      auto m = wanted.find(std::make_tuple(d.scope, d.master));
      if (m != wanted.end() && !can_be_master(m->second->kind))
        throw ConflictError(fmt::format("{}: master '{}' is a {} link, not a bridge or vrf", describe(d), d.master,
                                        link_kind_name(m->second->kind)));
    }
    if (d.kind != LinkKind::Veth) continue;
    auto peer = seen.find(std::make_tuple(d.peer_scope, d.peer_name));
    if (peer == seen.end()) continue;
    const Link& p = *peer->second;
    if (!(p.owned && p.alias == d.alias)) {
      throw ConflictError(fmt::format("interface '{}' already exists in namespace '{}'{}", d.peer_name,
                                      d.peer_scope, p.owned ? " (another topocni attachment owns it)" : ""));
    }
    deletes.push_back({Action::Delete, p, std::nullopt});
  }
}

// Links are diffed without the separately reported peer ends (check_links handled those).
State without_peer_ends(const State& desired, const State& observed) {
  State s = observed;
  std::erase_if(s.of<Link>(), [&](const Link& o) {
    return std::any_of(desired.of<Link>().begin(), desired.of<Link>().end(), [&](const Link& d) {
      return d.kind == LinkKind::Veth && d.peer_scope == o.scope && d.peer_name == o.name;
    });
  });
  return s;
}

// An existing link that the item changes nothing on is a reference: it must exist (check_links), nothing more.
// One whose mtu, mac... the item sets is diffed like any link, on those attributes only (the kernel layer
// observes nothing else of it), and changed in place.
std::vector<Link> managed_links(const std::vector<Link>& links) {
  std::vector<Link> out;
  std::copy_if(links.begin(), links.end(), std::back_inserter(out),
               [](const Link& l) { return l.kind != LinkKind::Existing || changes_existing(l); });
  return out;
}

// The objects of a kind the diff may create, change or delete: all of them, except links of kind existing,
// which are references only.
template <class T>
decltype(auto) managed(const std::vector<T>& v) {
  if constexpr (std::is_same_v<T, Link>)
    return managed_links(v);
  else
    return (v);
}

// "net.ipv4.conf.<dev>.rp_filter" → "<dev>"; empty for sysctls that are not per interface.
std::string sysctl_device(const std::string& name) {
  for (const char* prefix : {"net.ipv4.conf.", "net.ipv6.conf.", "net.ipv4.neigh.", "net.ipv6.neigh."}) {
    std::string_view p(prefix);
    if (name.starts_with(p)) {
      auto rest = name.substr(p.size());
      auto dot = rest.rfind('.');
      return dot == std::string::npos ? "" : rest.substr(0, dot);
    }
  }
  return "";
}

// Objects a template says must not exist (`state: absent`, kinds/absent.h): whatever holds their key goes,
// ours or not (the caller journals foreign ones so DEL can put them back). The present ones are returned, to
// be diffed as usual; `observed` loses what the absent keys handled, so it never also counts as "ours, not
// desired".
//
// A route key that is both absent and present (route-override: "flush the previous plugin's routes, then add
// this one") means "whatever holds the key is replaced by mine": the present route wins and takes over the
// key. Deleting the absent key instead would delete our own route again on every ADD/CHECK, so a second
// plan would never be empty. Kinds without a takeover cannot say that: both at once is a conflict.
template <AbsentCapable K>
std::vector<K> remove_absent(const std::vector<K>& desired, std::vector<K>& observed, std::vector<Change>& deletes) {
  using Key = std::remove_cvref_t<decltype(std::declval<const K&>().key())>;
  // Key sets, not a scan of the desired objects per observed one: 10,000 routes made that 10^8 key compares.
  std::set<Key> absent_keys, present_keys;
  for (const K& d : desired) (d.absent ? absent_keys : present_keys).insert(d.key());
  if (absent_keys.empty()) return desired;
  std::vector<K> present;
  for (const K& d : desired) {
    if (d.absent) continue;
    present.push_back(d);
    if (!absent_keys.contains(d.key())) continue;
    if constexpr (requires { d.takeover; }) {
      present.back().takeover = true;
    } else {
      throw ConflictError(fmt::format("{} is both present and absent in the template", describe(d)));
    }
  }
  for (const Key& k : present_keys) absent_keys.erase(k);
  for (const K& o : observed) {
    if (!absent_keys.contains(o.key())) continue;
    if (!KindOps<K>::owned(o) && !restorable(o))
      throw ConflictError(fmt::format("{} in namespace '{}' has state: absent, but the one there ({}) has "
                                      "attributes topocni cannot put back on DEL; it is left alone",
                                      kind_name(Object(o)), o.scope, describe(o)));
    deletes.push_back({Action::Delete, o, std::nullopt});
  }
  std::erase_if(observed, [&](const K& o) { return absent_keys.contains(o.key()); });
  return present;
}

}  // namespace

Plan diff(const State& desired_in, const State& observed_in) {
  std::vector<Change> deletes, rest;
  State desired = desired_in, observed = observed_in;
  AllKinds::each([&]<class K>() {
    if constexpr (AbsentCapable<K>) desired.of<K>() = remove_absent(desired_in.of<K>(), observed.of<K>(), deletes);
  });
  check_links(desired, observed, deletes);
  State seen = without_peer_ends(desired, observed);
  AllKinds::each([&]<class K>() { diff_kind(managed(desired.of<K>()), managed(seen.of<K>()), deletes, rest); });
  Plan plan;
  sort_plan(deletes, rest, plan);
  return plan;
}

Plan diff_destroy(const State& journaled, const State& observed, const State& taken_over) {
  std::vector<Change> deletes, rest;
  // Everything observed that carries our mark goes (sysctls carry none: they are restored below).
  AllKinds::each([&]<class K>() { diff_kind(std::vector<K>{}, managed(observed.of<K>()), deletes, rest); });

  // Sysctls go back to the value they had before the first ADD, unless their interface is being deleted
  // anyway, or someone changed them since (then the newer value is theirs).
  auto deleted_link = [&](const std::string& scope, const std::string& dev) {
    return std::any_of(deletes.begin(), deletes.end(), [&](const Change& c) {
      const Link* l = std::get_if<Link>(&c.object);
      return l && ((l->scope == scope && l->name == dev) || (l->peer_scope == scope && l->peer_name == dev));
    });
  };
  for (const Sysctl& j : journaled.of<Sysctl>()) {
    if (!j.previous || *j.previous == j.value || deleted_link(j.scope, sysctl_device(j.name))) continue;
    auto it = std::find_if(observed.of<Sysctl>().begin(), observed.of<Sysctl>().end(),
                           [&](const Sysctl& o) { return o.key() == j.key(); });
    if (it == observed.of<Sysctl>().end() || it->value != j.value) continue;
    Sysctl restored = j;
    restored.value = *j.previous;
    restored.previous.reset();
    deletes.push_back({Action::Replace, restored, *it});
  }

  // Existing links go back to how they were before the first ADD changed them (their journaled origin),
  // attribute by attribute, unless someone changed the attribute since (then the newer value is theirs).
  for (const Link& j : journaled.of<Link>()) {
    if (!changes_existing(j) || !j.origin) continue;
    auto it = std::find_if(observed.of<Link>().begin(), observed.of<Link>().end(),
                           [&](const Link& o) { return o.key() == j.key() && o.kind == LinkKind::Existing; });
    if (it == observed.of<Link>().end()) continue;
    const LinkOrigin& was = *j.origin;
    Link restored = *it;
    if (j.mtu && was.mtu && it->mtu == j.mtu) restored.mtu = was.mtu;
    if (j.mac && was.mac && it->mac == j.mac) restored.mac = was.mac;
    if (j.promisc && was.promisc && it->promisc == j.promisc) restored.promisc = was.promisc;
    if (j.allmulti && was.allmulti && it->allmulti == j.allmulti) restored.allmulti = was.allmulti;
    if (!j.master.empty() && was.master && it->master == j.master) restored.master = *was.master;
    if (!(restored == *it)) deletes.push_back({Action::Replace, restored, *it});
  }

  // Foreign objects an absent item removed (or a route's takeover replaced) come back, as they were, when
  // their device is still there and nothing foreign holds their key (ours is being deleted above).
  AllKinds::each([&]<class K>() {
    if constexpr (AbsentCapable<K>) {
      for (const K& t : taken_over.of<K>()) {
        std::string dev = restore_device(t);
        bool dev_present = dev.empty() || std::any_of(observed.of<Link>().begin(), observed.of<Link>().end(),
                                                      [&](const Link& l) { return l.scope == t.scope && l.name == dev; });
        bool key_held = std::any_of(observed.of<K>().begin(), observed.of<K>().end(),
                                    [&](const K& o) { return o.key() == t.key() && !KindOps<K>::owned(o); });
        if (!dev_present || key_held) continue;
        K original = t;
        if constexpr (requires { original.takeover; }) original.takeover = false;
        rest.push_back({Action::Create, original, std::nullopt});
      }
    }
  });
  Plan plan;
  sort_plan(deletes, rest, plan);
  return plan;
}

}  // namespace topo
