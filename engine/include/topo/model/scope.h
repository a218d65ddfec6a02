// Every object lives in a namespace scope. A template speaks of "host" (the node's network namespace, the one
// the plugin is started in) and "container" (CNI_NETNS); topoctl may bind further scopes to netns paths.
#pragma once

#include <cstdint>
#include <string>

#include "topo/model/ownership.h"  // scopes hold objects; most files that name one need the marks too

namespace topo {

inline constexpr const char* kHostScope = "host";
inline constexpr const char* kContainerScope = "container";


}  // namespace topo
