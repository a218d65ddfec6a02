// DEL's last resort: when there is no journal and the template does not render, the attachment's objects are
// found by the marks topocni leaves in the kernel. This is the one place that dumps whole link and rule
// tables: it runs only on that rare path, never on ADD.
#pragma once

#include <functional>
#include <string>

#include "topo/model/state.h"
#include "topo/netns.h"

namespace topo {

// In every available scope of `scopes`: the veths whose IFLA_IFALIAS is `alias`; the rules with our protocol
// whose iif is one of them, or whose iif no longer exists and that `claimed` (another attachment's journal)
// does not hold; and the routes with our protocol in the tables only those rules point to. Everything found
// is marked owned, ready to be the interest of Kernel::observe.
State find_by_marks(const ScopeMap& scopes, const std::string& alias,
                    const std::function<bool(const Rule&)>& claimed);

}  // namespace topo
