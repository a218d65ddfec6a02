#include "kinds/rule/rule_codec.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "kernel/netlink/ip_attr.h"
#include "topo/model/scope.h"

namespace topo::netlink {

namespace {

std::string nul_string(const nlattr* attr) {
  auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(attr)));
}

}  // namespace

std::optional<uint32_t> effective_fwmask(const Rule& r) {
  if (r.fwmask) return r.fwmask;
  if (r.fwmark) return 0xffffffffu;
  return std::nullopt;
}

std::optional<RuleMsg> decode_rule(const nlmsghdr& nlh) {
  if (nlh.nlmsg_type != RTM_NEWRULE || mnl_nlmsg_get_payload_len(&nlh) < sizeof(fib_rule_hdr))
    return std::nullopt;
  auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(&nlh));
  if (frh->family != AF_INET && frh->family != AF_INET6) return std::nullopt;
  Family family = static_cast<Family>(frh->family);
  RuleMsg out;
  Rule& r = out.rule;
  r.family = family;
  r.table = frh->table;
  out.action = frh->action;
  std::optional<IpAddress> src, dst;
  for_each_attr(nlh, sizeof(fib_rule_hdr), [&](const nlattr& a) {
    const nlattr* attr = &a;
    uint16_t type = mnl_attr_get_type(attr);
    bool u32 = mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
    switch (type) {  // anything else is skipped
      case FRA_PRIORITY:
        if (u32) r.priority = mnl_attr_get_u32(attr);
        break;
      case FRA_SRC:
        src = address_of(attr, family);
        break;
      case FRA_DST:
        dst = address_of(attr, family);
        break;
      case FRA_IIFNAME:
        r.iif = nul_string(attr);
        break;
      case FRA_OIFNAME:
        r.oif = nul_string(attr);
        break;
      case FRA_FWMARK:
        if (u32) r.fwmark = mnl_attr_get_u32(attr);
        break;
      case FRA_FWMASK:
        if (u32) r.fwmask = mnl_attr_get_u32(attr);
        break;
      case FRA_TABLE:
        if (u32) r.table = mnl_attr_get_u32(attr);
        break;
      case FRA_PROTOCOL:
        if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0) out.protocol = mnl_attr_get_u8(attr);
        break;
      // Selectors and actions the model has no field for. fib_nl_fill_rule reports the suppressors always,
      // -1 meaning unset; the others only when set.
      case FRA_SUPPRESS_PREFIXLEN:
      case FRA_SUPPRESS_IFGROUP:
        if (!u32 || mnl_attr_get_u32(attr) != 0xffffffffu) r.unmodelled = true;
        break;
      case FRA_GOTO:
      case FRA_FLOW:
      case FRA_L3MDEV:
      case FRA_UID_RANGE:
      case FRA_IP_PROTO:
      case FRA_SPORT_RANGE:
      case FRA_DPORT_RANGE:
      case FRA_TUN_ID:
        r.unmodelled = true;
        break;
      default:
        // Newer than these headers (dscp, flowlabel, port masks...): a selector this model cannot say either.
        if (type > FRA_DPORT_RANGE) r.unmodelled = true;
        break;
    }
  });
  if (src) r.from = IpPrefix{*src, frh->src_len};
  if (dst) r.to = IpPrefix{*dst, frh->dst_len};
  // fib_nl_fill_rule reports FRA_FWMARK/FRA_FWMASK whenever either is non-zero; a rule without a mark
  // selector comes back with neither.
  r.owned = out.protocol == kOwnerProtocol;
  r.protocol = out.protocol;
  if (frh->action != FR_ACT_TO_TBL || (frh->flags & FIB_RULE_INVERT) || frh->tos) r.unmodelled = true;
  return out;
}

void encode_rule(Builder& b, const Rule& r) {
  auto& frh = b.header<fib_rule_hdr>();
  frh.family = static_cast<uint8_t>(r.family);
  frh.action = FR_ACT_TO_TBL;
  frh.table = r.table < 256 ? static_cast<uint8_t>(r.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  if (r.from) frh.src_len = r.from->len;
  if (r.to) frh.dst_len = r.to->len;
  // Explicit even when 0: without FRA_PRIORITY the kernel picks a priority for a new rule, and a delete
  // would match a rule of any priority.
  b.put_u32(FRA_PRIORITY, r.priority);
  if (r.from) b.put(FRA_SRC, r.from->addr.bytes.data(), r.from->addr.size());
  if (r.to) b.put(FRA_DST, r.to->addr.bytes.data(), r.to->addr.size());
  if (!r.iif.empty()) b.put_str(FRA_IIFNAME, r.iif);
  if (!r.oif.empty()) b.put_str(FRA_OIFNAME, r.oif);
  if (r.fwmark) b.put_u32(FRA_FWMARK, *r.fwmark);
  if (r.fwmask) b.put_u32(FRA_FWMASK, *r.fwmask);
  b.put_u32(FRA_TABLE, r.table);
  // A foreign rule keeps its own protocol: put back on DEL, and deleted by it (rule_find compares it).
  b.put_u8(FRA_PROTOCOL, r.protocol);
}

void encode_rule_dump(Builder& b, Family family) {
  auto& frh = b.header<fib_rule_hdr>();
  frh.family = static_cast<uint8_t>(family);
}

}  // namespace topo::netlink
