#include "kinds/route/route_codec.h"

#include <linux/rtnetlink.h>

#include <cstring>

#include "kernel/netlink/ip_attr.h"
#include "topo/model/scope.h"

namespace topo::netlink {

namespace {

constexpr uint32_t kIpv6DefaultMetric = 1024;  // IP6_RT_PRIO_USER

void put_address(Builder& b, uint16_t type, const IpAddress& a) { b.put(type, a.bytes.data(), a.size()); }

rtmsg& put_rtmsg(Builder& b, const Route& r) {
  auto& rtm = b.header<rtmsg>();
  rtm.rtm_family = static_cast<uint8_t>(r.family());
  rtm.rtm_dst_len = r.dst.len;
  rtm.rtm_tos = r.tos;
  // Tables above 255 only fit RTA_TABLE; the header then says RT_TABLE_UNSPEC and the attribute wins.
  rtm.rtm_table = r.table < 256 ? static_cast<uint8_t>(r.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  rtm.rtm_protocol = r.protocol;
  rtm.rtm_type = static_cast<uint8_t>(r.type);
  return rtm;
}

void put_key(Builder& b, const Route& r) {
  // Sent as given: IPv4 refuses host bits ("Invalid prefix for given prefix length"), which is a spec error
  // better reported than silently masked.
  if (r.dst.len > 0) put_address(b, RTA_DST, r.dst.addr);
  b.put_u32(RTA_TABLE, r.table);
}

}  // namespace

uint32_t effective_metric(Family family, uint32_t metric) {
  return family == Family::V6 && metric == 0 ? kIpv6DefaultMetric : metric;
}

std::optional<RouteMsg> decode_route(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(&nlh) < sizeof(rtmsg)) return std::nullopt;
  auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&nlh));
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return std::nullopt;
  Family family = static_cast<Family>(rtm->rtm_family);
  RouteMsg out;
  Route& r = out.route;
  r.dst.addr.family = family;
  r.dst.len = rtm->rtm_dst_len;
  r.tos = rtm->rtm_tos;
  r.table = rtm->rtm_table;
  r.route_scope = static_cast<RouteScope>(rtm->rtm_scope);
  r.type = static_cast<RouteType>(rtm->rtm_type);
  r.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
  out.protocol = rtm->rtm_protocol;
  out.cloned = rtm->rtm_flags & RTM_F_CLONED;
  r.protocol = out.protocol;
  r.owned = out.protocol == kOwnerProtocol;
  for_each_attr(nlh, sizeof(rtmsg), [&](const nlattr& a) {
    const nlattr* attr = &a;
    switch (mnl_attr_get_type(attr)) {  // anything else is skipped
      case RTA_DST:
        if (auto a = address_of(attr, family)) r.dst.addr = *a;
        break;
      case RTA_TABLE:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) r.table = mnl_attr_get_u32(attr);
        break;
      case RTA_PRIORITY:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) r.metric = mnl_attr_get_u32(attr);
        break;
      case RTA_GATEWAY:
        r.gateway = address_of(attr, family);
        break;
      case RTA_PREFSRC:
        r.src = address_of(attr, family);
        break;
      case RTA_OIF:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) out.oif = mnl_attr_get_u32(attr);
        break;
      default:
        break;
    }
  });
  return out;
}

void encode_route(Builder& b, const Route& r, uint32_t oif) {
  auto& rtm = put_rtmsg(b, r);
  rtm.rtm_scope = static_cast<uint8_t>(r.route_scope);
  if (r.onlink) rtm.rtm_flags |= RTNH_F_ONLINK;
  put_key(b, r);
  if (r.metric != 0) b.put_u32(RTA_PRIORITY, r.metric);
  if (r.gateway) put_address(b, RTA_GATEWAY, *r.gateway);
  if (oif != 0) b.put_u32(RTA_OIF, oif);
  if (r.src) put_address(b, RTA_PREFSRC, *r.src);
}

void encode_route_delete(Builder& b, const Route& r, uint32_t oif) {
  auto& rtm = put_rtmsg(b, r);
  // RT_SCOPE_NOWHERE: "any scope" for fib_table_delete, as ip-route(8) sends for deletes.
  rtm.rtm_scope = RT_SCOPE_NOWHERE;
  put_key(b, r);
  // Always explicit: for IPv4 a missing RTA_PRIORITY matches any metric, and IPv6 stores 0 as 1024.
  b.put_u32(RTA_PRIORITY, effective_metric(r.family(), r.metric));
  if (oif != 0) b.put_u32(RTA_OIF, oif);
}

void encode_route_dump(Builder& b, Family family, uint32_t table, uint32_t oif) {
  auto& rtm = b.header<rtmsg>();
  rtm.rtm_family = static_cast<uint8_t>(family);
  b.put_u32(RTA_TABLE, table);
  if (oif != 0) b.put_u32(RTA_OIF, oif);
}

}  // namespace topo::netlink
