#pragma once

#include <optional>
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

}  // namespace topo
