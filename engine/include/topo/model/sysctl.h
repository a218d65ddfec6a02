#pragma once

#include <optional>
#include <string>
#include <tuple>

namespace topo {

struct Sysctl {
  std::string scope;  // namespace scope: /proc/sys/net is per network namespace
  std::string name;   // dotted name, e.g. "net.ipv4.conf.veth0.forwarding"
  std::string value;  // as written to /proc/sys (trailing newline stripped when read)

  // Journal only: the value before we first wrote it, restored on DEL.
  std::optional<std::string> previous;

  auto key() const { return std::tie(scope, name); }
  bool operator==(const Sysctl& o) const { return key() == o.key() && value == o.value; }
};

}  // namespace topo
