#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "topo/model/state.h"

namespace topo {

enum class Action : uint8_t {
  Create,   // object absent: create it
  Delete,   // object ours and no longer wanted: delete it
  Replace,  // same key, different value: change it in place (`previous` holds the old value)
};

struct Change {
  Action action{Action::Create};
  Object object;                   // the value after the change (for Delete: the object removed)
  std::optional<Object> previous;  // Replace: the value before; the inverse of this change restores it
};

struct Plan {
  std::vector<Change> changes;

  bool empty() const { return changes.empty(); }
  size_t count(Action a) const;
};

// The change that undoes `c` (for rollback of a failed apply).
Change inverse(const Change& c);

// "create route", "delete link": how errors name the operation.
std::string operation_of(const Change& c);

// What one Kernel::execute() call did: which changes took effect, in the order they did, and which one was
// being attempted when an exception left. Kinds call attempt() before each change, took_effect() after it; a
// netlink batch may report successes after the failing request (rtnetlink goes on past it).
class Progress {
 public:
  using Hook = std::function<void(const Change&)>;
  explicit Progress(const Hook* hook = nullptr) : hook_(hook) {}
  void use_hook(const Hook* hook) { hook_ = hook; }

  // Before change `i` is sent. Runs the test hook (fault injection) when one is installed: nothing otherwise.
  void attempt(size_t i, const Change& c) {
    current_ = i;
    if (hook_ && *hook_) (*hook_)(c);
  }
  void took_effect(size_t i) { effected_.push_back(i); }
  // A batch learns which request failed after sending them all.
  void failed_at(size_t i) { current_ = i; }

  size_t current() const { return current_; }
  const std::vector<size_t>& effected() const { return effected_; }

 private:
  const Hook* hook_;
  size_t current_{0};
  std::vector<size_t> effected_;
};


}  // namespace topo
