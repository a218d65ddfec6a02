// Reading and writing /proc/sys. /proc/sys/net belongs to the network namespace of the thread that opens the
// file, so call these while inside the scope's namespace (NetnsGuard).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace topo::sysctl {

// The file of a dotted name. Interface names may contain '.', so for the per-interface trees
// (net.ipv4.conf.<ifname>.<key>, net.ipv6.conf..., net.ipv4.neigh..., net.ipv6.neigh...) only the first three
// dots and the last one separate components. A name already written with '/' is taken as a path, as
// sysctl(8) does. Throws Error for a name that would leave /proc/sys.
std::string path_of(const std::string& name);

// The sysctl files of one network namespace, read and written through directories kept open. A path under
// /proc/sys/net/ipv4 (or ipv6, ...) costs a lookup of "ipv4" among the entries of that name of every
// namespace whose sysctls were ever opened (/proc/sys dentries are shared and filtered per namespace): with
// 300 pods on a node, 35-300 µs per open. Files pays it once per directory. Use it only inside the namespace
// it was first used in: the directories stay those of that namespace.
class Files {
 public:
  Files() = default;
  ~Files();
  Files(const Files&) = delete;
  Files& operator=(const Files&) = delete;

  // The value with its trailing newline stripped; nullopt when the file does not exist (e.g. the interface
  // is not there). Other failures throw SystemError.
  std::optional<std::string> read(const std::string& name);
  // Throws SystemError on failure (the kernel's errno, e.g. EINVAL for a value it refuses).
  void write(const std::string& name, const std::string& value);

 private:
  // open(2) of the name's file relative to its kept directory; -1 with errno set on failure.
  int open_file(const std::string& path, int flags);
  std::map<std::string, int> dirs_;  // "/proc/sys/net/ipv4" → O_PATH descriptor
};

}  // namespace topo::sysctl
