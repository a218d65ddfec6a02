#include "kinds/sysctl/sysctl_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "kernel/fd_read.h"
#include "topo/error.h"

namespace topo::sysctl {

namespace {

std::vector<std::string> split_dots(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

bool per_interface_tree(const std::vector<std::string>& p) {
  return p.size() >= 5 && p[0] == "net" && (p[1] == "ipv4" || p[1] == "ipv6") &&
         (p[2] == "conf" || p[2] == "neigh");
}

}  // namespace

std::string path_of(const std::string& name) {
  std::string rel;
  if (name.find('/') != std::string::npos) {
    rel = name;
  } else {
    auto p = split_dots(name);
    if (per_interface_tree(p)) {
      // net.ipv4.conf.<ifname with dots>.<key>: the interface is everything between the third and last dot.
      std::string ifname = p[3];
      for (size_t i = 4; i + 1 < p.size(); ++i) ifname += "." + p[i];
      rel = p[0] + "/" + p[1] + "/" + p[2] + "/" + ifname + "/" + p.back();
    } else {
      rel = name;
      for (char& c : rel)
        if (c == '.') c = '/';
    }
  }
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  // Components "." and ".." (or empty ones) would leave the tree or mean something else.
  for (size_t start = 0; start <= rel.size();) {
    size_t slash = rel.find('/', start);
    std::string_view part(rel.data() + start, (slash == std::string::npos ? rel.size() : slash) - start);
    if (part.empty() || part == "." || part == "..") throw Error("invalid sysctl name: " + name);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return "/proc/sys/" + rel;
}

Files::~Files() {
  for (const auto& [dir, fd] : dirs_) ::close(fd);
}

int Files::open_file(const std::string& path, int flags) {
  // "/proc/sys/net/ipv4/conf/eth0/forwarding" → directory "/proc/sys/net/ipv4", file "conf/eth0/forwarding".
  static constexpr std::string_view kNet = "/proc/sys/net/";
  size_t slash = path.starts_with(kNet) ? path.find('/', kNet.size()) : std::string::npos;
  if (slash == std::string::npos) return ::open(path.c_str(), flags | O_CLOEXEC);
  std::string dir = path.substr(0, slash);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) {
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    it = dirs_.emplace(dir, fd).first;
  }
  return ::openat(it->second, path.c_str() + slash + 1, flags | O_CLOEXEC);
}

std::optional<std::string> Files::read(const std::string& name) {
  std::string path = path_of(name);
  int fd = open_file(path, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError(errno, "read sysctl " + name + " (" + path + ")");
  }
  std::string value;
  try {
    value = read_to_end(fd, "sysctl " + name + " (" + path + ")");
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

void Files::write(const std::string& name, const std::string& value) {
  std::string path = path_of(name);
  int fd = open_file(path, O_WRONLY);
  if (fd < 0) throw SystemError(errno, "write sysctl " + name + " (" + path + ")");
  // One write(2): proc handlers parse the whole value from a single write at offset 0.
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0) throw SystemError(err, "write sysctl " + name + "=" + value);
  if (static_cast<size_t>(n) != value.size()) throw SystemError(EIO, "short write to sysctl " + name);
}

}  // namespace topo::sysctl
