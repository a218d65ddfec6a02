// The words of the link kind's enums, shared by its text, journal and template forms (kinds/text.h tables).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kinds/text.h"
#include "topo/model/link.h"

namespace topo {

extern const EnumTable<LinkKind> kLinkKinds;
extern const EnumTable<MacvlanMode> kMacvlanModes;
extern const EnumTable<IpvlanMode> kIpvlanModes;
extern const EnumTable<IpvlanFlag> kIpvlanFlags;
extern const EnumTable<VlanProtocol> kVlanProtocols;

// A multicast IPv4 (224/4) or IPv6 (ff00::/8) address: a vxlan `group` rather than a `remote`.
bool is_multicast(const IpAddress& a);

}  // namespace topo
