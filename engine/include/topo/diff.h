// The diff is a pure function: no I/O, fully unit-tested.
#pragma once

#include "topo/model/state.h"
#include "topo/plan.h"

namespace topo {

// Plans the changes that turn `observed` into `desired`.
//
// `observed` holds only what the kernel reported for the keys the caller asked about (see Kernel::observe):
// objects with a desired object's key, and ours that a previous apply left. Rules:
//  - same key, equal value: nothing; same key, different value: Replace, if the observed object is ours, or a
//    sysctl, or the desired object says `takeover`; otherwise a ConflictError naming both;
//  - desired and absent: Create;  observed, ours and not desired: Delete;  foreign and not desired: untouched;
//  - an Existing link that is not observed: a ConflictError ("host interface X does not exist").
// Deletes come first, in reverse kind order; then creates and replaces in kind order
// (links, sysctls, addresses, routes, rules, NAT). Within a kind the order is by key, except that routes
// without a gateway come before routes with one (a gateway must be reachable before it is used).
Plan diff(const State& desired, const State& observed);

// DEL: everything in `observed` that is ours is deleted (in reverse kind order); sysctls go back to their
// journaled `previous` value; routes in `taken_over` (foreign routes a takeover replaced) are re-created when
// their device is in `observed.links` or is an Existing link.
Plan diff_destroy(const State& journaled, const State& observed, const State& taken_over);

}  // namespace topo
