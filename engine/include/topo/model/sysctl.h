#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace topo {

struct Sysctl {
  static constexpr std::string_view kName = "sysctl";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "sysctls";  // template and journal section

  std::string scope;  // namespace scope: /proc/sys/net is per network namespace
  std::string name;   // dotted name, e.g. "net.ipv4.conf.veth0.forwarding"
  std::string value;  // as written to /proc/sys (trailing newline stripped when read)

  // Journal only: the value before we first wrote it, restored on DEL.
  std::optional<std::string> previous;

  auto key() const { return std::tie(scope, name); }
  bool operator==(const Sysctl& o) const { return key() == o.key() && value == o.value; }
};

// Defined by the kind's unit (engine/src/kinds/sysctl/): one line of plan text, and the journal's JSON form.
std::string describe(const Sysctl& v);
void to_json(nlohmann::json& j, const Sysctl& v);
void from_json(const nlohmann::json& j, Sysctl& v);

}  // namespace topo
