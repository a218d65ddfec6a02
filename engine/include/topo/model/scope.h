// Every object lives in a namespace scope. A template speaks of "host" (the node's network namespace, the one
// the plugin is started in) and "container" (CNI_NETNS); topoctl may bind further scopes to netns paths.
#pragma once

#include <cstdint>
#include <string>

namespace topo {

inline constexpr const char* kHostScope = "host";
inline constexpr const char* kContainerScope = "container";

// The routing protocol number that marks routes and rules as topocni's (rtm_protocol / FRA_PROTOCOL /
// IFA_PROTO). 99 is iproute2's "openr"; 157 is unassigned in /etc/iproute2/rt_protos.
inline constexpr uint8_t kOwnerProtocol = 157;

// Prefix of the IFLA_IFALIAS we put on links we create, followed by the attachment id.
inline constexpr const char* kAliasPrefix = "topocni:";

}  // namespace topo
