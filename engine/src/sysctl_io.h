// Reading and writing /proc/sys. /proc/sys/net belongs to the network namespace of the thread that opens the
// file, so call these while inside the scope's namespace (NetnsGuard).
#pragma once

#include <optional>
#include <string>

namespace topo::sysctl {

// The file of a dotted name. Interface names may contain '.', so for the per-interface trees
// (net.ipv4.conf.<ifname>.<key>, net.ipv6.conf..., net.ipv4.neigh..., net.ipv6.neigh...) only the first three
// dots and the last one separate components. A name already written with '/' is taken as a path, as
// sysctl(8) does. Throws Error for a name that would leave /proc/sys.
std::string path_of(const std::string& name);

// The value with its trailing newline stripped; nullopt when the file does not exist (e.g. the interface is
// not there). Other failures throw SystemError.
std::optional<std::string> read(const std::string& name);

// Throws SystemError on failure (the kernel's errno, e.g. EINVAL for a value it refuses).
void write(const std::string& name, const std::string& value);

}  // namespace topo::sysctl
