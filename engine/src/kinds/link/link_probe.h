// Whether the kernel has a link kind, asked without creating anything.
#pragma once

#include <string>

namespace topo {

class KernelContext;

// True when a link of `kind` could be created in `scope` (the kind's driver is built in or its module loads).
bool link_kind_probe(KernelContext& k, const std::string& scope, const std::string& kind);

}  // namespace topo
