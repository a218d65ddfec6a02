// Reading a file descriptor to its end, retried across EINTR: the journal, the shared registry and sysctls.
#pragma once

#include <string>

namespace topo {

// Everything left to read from `fd`, which stays open. A read error is SystemError("read " + what).
std::string read_to_end(int fd, const std::string& what);

}  // namespace topo
