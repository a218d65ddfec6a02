#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace topo {

enum class LinkKind : uint8_t {
  Veth,      // created and owned: a veth pair whose ends may live in two scopes
  Existing,  // referenced only: must exist, is never created, changed or deleted
};

struct Link {
  static constexpr std::string_view kName = "link";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "links";  // template and journal section

  std::string scope;             // namespace scope of this end
  std::string name;              // IFLA_IFNAME
  LinkKind kind{LinkKind::Veth};  // IFLA_INFO_KIND
  std::string peer_scope;        // veth: scope of the other end
  std::string peer_name;         // veth: VETH_INFO_PEER / IFLA_IFNAME
  std::optional<uint32_t> mtu;   // IFLA_MTU (kernel default 1500 for veth when unset)
  bool up{true};                 // IFF_UP on both ends
  std::string alias;             // IFLA_IFALIAS: "topocni:<attachment>" marks ownership (set by the engine)

  // Observed only: whether the kernel object carries our alias.
  bool owned{false};

  auto key() const { return std::tie(scope, name); }
  bool operator==(const Link& o) const {
    return scope == o.scope && name == o.name && kind == o.kind && peer_scope == o.peer_scope &&
           peer_name == o.peer_name && mtu == o.mtu && up == o.up && alias == o.alias;
  }
};

// Defined by the kind's unit (engine/src/kinds/link/): one line of plan text, and the journal's JSON form.
std::string describe(const Link& v);
void to_json(nlohmann::json& j, const Link& v);
void from_json(const nlohmann::json& j, Link& v);

}  // namespace topo
