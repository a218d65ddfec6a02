// `state: absent` (nmstate's word): an item that names only an object's key, saying "no object with this key
// may exist". One mechanism for every kind that has it (routes, addresses, neighbours, rules):
//   - template: read_absent() reads `state` and refuses any key outside the kind's key, at its position;
//   - diff (plan/diff.cpp): whatever holds an absent key is deleted, ours or not (another attachment's is
//     refused before, lifecycle/claims.cpp);
//   - journal: a foreign object deleted (or replaced by a route's takeover) goes to `takenOver` in the intent,
//     stored before the change, so a kill right after the delete still leaves DEL knowing it;
//   - DEL (diff_destroy): each one comes back, as it was, when its device is still there and nothing foreign
//     holds its key.
// Links, sysctls and NAT rules refuse it, each saying why (refuse_absent).
#pragma once

#include <concepts>
#include <initializer_list>
#include <string>

namespace topo {

namespace tmpl {
class Fields;
}

// The kinds whose items may say `state: absent`.
template <class K>
concept AbsentCapable = requires(const K& k) {
  { k.absent } -> std::convertible_to<bool>;
};

// The device an object taken over needs to be put back on: its `dev`; "" when it needs none (a rule names
// interfaces only as selectors, which the kernel accepts before they exist).
template <class K>
std::string restore_device(const K& o) {
  if constexpr (requires { o.dev; })
    return o.dev;
  else
    return "";
}

// Whether a foreign object an absent item removes can be put back as it was: not a rule with selectors or an
// action the model cannot say (the diff refuses to remove one, rather than lose it).
template <class K>
bool restorable(const K& o) {
  if constexpr (requires { o.unmodelled; })
    return !o.unmodelled;
  else
    return true;
}

// Whether a foreign object removed is worth putting back on DEL: not a neighbour entry the kernel learnt (it
// learns it again by itself).
template <class K>
bool worth_restoring(const K& o) {
  if constexpr (requires { o.learnt; })
    return !o.learnt;
  else
    return true;
}

// Reads the item's `state` (present or absent): true when absent. `what` names the kind ("an address"),
// `key_words` its key ("dev and address"); each of `not_key` the item has is an error at its position.
bool read_absent(tmpl::Fields& f, const char* what, const char* key_words, std::initializer_list<const char*> not_key);

// For a kind that has no absent form: `state: present` is accepted, `state: absent` is an error saying `why`.
void refuse_absent(tmpl::Fields& f, const char* what, const char* why);

}  // namespace topo
