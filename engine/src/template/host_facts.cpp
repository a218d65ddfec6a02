// The defaults of the HostFacts lookups added after addresses(): a provider that does not implement one
// refuses instead of inventing an answer.
#include <fmt/format.h>

#include "topo/error.h"
#include "topo/template/template.h"

namespace topo {

std::optional<std::string> HostFacts::source_toward(const std::string& ip) {
  throw ConflictError(fmt::format("this host facts provider cannot look up the source address toward {}", ip));
}

std::optional<std::string> HostFacts::default_interface(Family family) {
  throw ConflictError(
      fmt::format("this host facts provider cannot look up the {} default route", family_name(family)));
}

nlohmann::json host_link_fact(const std::string& name, const std::string& kind, uint32_t mtu, const std::string& mac,
                              bool up) {
  return {{"name", name}, {"kind", kind}, {"mtu", mtu}, {"mac", mac}, {"up", up}};
}

std::optional<nlohmann::json> HostFacts::link(const std::string& ifname) {
  throw ConflictError(fmt::format("this host facts provider cannot look up interface {}", ifname));
}

std::optional<std::string> HostFacts::sysctl(const std::string& name) {
  throw ConflictError(fmt::format("this host facts provider cannot read sysctl {}", name));
}

bool HostFacts::supports_link_kind(const std::string& kind) {
  throw ConflictError(fmt::format("this host facts provider cannot tell whether the kernel has {} links", kind));
}

}  // namespace topo
