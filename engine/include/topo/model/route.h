#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "topo/model/ip.h"
#include "topo/model/scope.h"

namespace topo {

inline constexpr uint32_t kTableMain = 254;   // RT_TABLE_MAIN
inline constexpr uint32_t kTableLocal = 255;  // RT_TABLE_LOCAL

enum class RouteScope : uint8_t { Universe = 0, Link = 253, Host = 254 };  // rtm_scope
enum class RouteType : uint8_t { Unicast = 1, Local = 2, Blackhole = 6, Unreachable = 7, Prohibit = 8, Throw = 9 };

struct Route {
  static constexpr std::string_view kName = "route";       // plan text, journal, CHECK
  static constexpr std::string_view kSection = "routes";  // template and journal section

  std::string scope;                   // namespace scope
  uint32_t table{kTableMain};          // RTA_TABLE
  IpPrefix dst;                        // RTA_DST + rtm_dst_len; its family is the route's family
  uint8_t tos{0};                      // rtm_tos
  uint32_t metric{0};                  // RTA_PRIORITY ("metric" in ip-route(8)); IPv6 0 means 1024
  std::optional<IpAddress> gateway;    // RTA_GATEWAY ("via")
  std::string dev;                     // RTA_OIF, by name
  std::optional<IpAddress> src;        // RTA_PREFSRC
  RouteScope route_scope{RouteScope::Universe};  // rtm_scope; ip-route(8) uses link for gateway-less unicast
  RouteType type{RouteType::Unicast};  // rtm_type
  bool onlink{false};                  // RTNH_F_ONLINK
  // rtm_protocol: ours for everything we create; as reported for observed routes. A foreign route that a
  // takeover replaced is put back with its own protocol, so it never looks like ours afterwards.
  uint8_t protocol{kOwnerProtocol};

  // Template only: this route may replace a foreign route with the same key; the original is journaled and
  // put back on DEL when its device still exists.
  bool takeover{false};
  // Template only ("state: absent"): no route with this key may exist. A foreign one is deleted, journaled,
  // and put back on DEL when its device still exists (how sbr moves routes out of the main table).
  bool absent{false};
  bool owned{false};  // observed only: rtm_protocol == kOwnerProtocol

  Family family() const { return dst.family(); }
  auto key() const { return std::make_tuple(scope, family(), table, dst, tos, metric); }
  bool operator==(const Route& o) const {
    return key() == o.key() && gateway == o.gateway && dev == o.dev && src == o.src &&
           route_scope == o.route_scope && type == o.type && onlink == o.onlink;
  }
};

// Defined by the kind's unit (engine/src/kinds/route/): one line of plan text, and the journal's JSON form.
std::string describe(const Route& v);
void to_json(nlohmann::json& j, const Route& v);
void from_json(const nlohmann::json& j, Route& v);

}  // namespace topo
