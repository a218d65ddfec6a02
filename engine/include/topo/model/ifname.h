// The one interface-name rule, for templates, network configs and CNI_IFNAME alike.
#pragma once

#include <optional>
#include <string>

namespace topo {

// The kernel's rule (dev_valid_name() in net/core/dev.c: 1..15 bytes (IFNAMSIZ - 1), not "." or "..", no '/',
// ':' or whitespace), narrowed to letters, digits, '_', '-' and '.': a NUL cuts a name short in netlink
// ("uplink0\0x" named uplink0), '%' makes the kernel choose the name (dev_alloc_name: "veth%d" becomes
// veth0), and a quote cannot be written in nft rule text. Returns why a name is bad, or nullopt.
std::optional<std::string> bad_ifname(const std::string& name);

// `s` with control characters (a NUL, a newline) escaped as \xNN, for messages.
std::string printable(const std::string& s);

}  // namespace topo
