// The whole nftables ruleset, read for diagnostics (see topo/node_scan.h). libnftnl rather than
// `nft -j list ruleset`: iptables-nft writes `-m conntrack --ctstate INVALID` as an xt compat match, and
// nft's JSON shows such a match only by name ({"xt": {"type": "match", "name": "conntrack"}}), not which
// states it matches; the netlink attributes carry the match's xt info, which is decoded here.
#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_state.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "kernel/nft/context.h"
#include "topo/error.h"
#include "topo/node_scan.h"

namespace topo::scan {

namespace {

using Buffer = std::array<char, 256>;

struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};

std::string family_name(uint32_t family) {
  switch (family) {
    case NFPROTO_INET: return "inet";
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    default: return std::to_string(family);
  }
}

// Hook numbers mean different hooks per family (nft(8), "ADDRESS FAMILIES").
std::string hook_name(uint32_t family, uint32_t hook) {
  if (family == NFPROTO_NETDEV) return hook == NF_NETDEV_INGRESS ? "ingress" : "egress";
  if (family == NFPROTO_ARP) {
    static const char* arp[] = {"input", "output", "forward"};
    return hook < 3 ? arp[hook] : std::to_string(hook);
  }
  static const char* inet[] = {"prerouting", "input", "forward", "output", "postrouting", "ingress"};
  return hook < 6 ? inet[hook] : std::to_string(hook);
}

[[noreturn]] void fail(const nft::Answer& a, const std::string& what) {
  throw SystemError(a.err, a.ext_ack.empty() ? what : what + " (" + a.ext_ack + ")");
}

// A dump of every object of one type, all families.
template <class F>
void dump(nft::Context& ctx, uint16_t type, const std::string& what, F&& each, const std::function<void()>& restart) {
  alignas(nlmsghdr) Buffer buf{};
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_UNSPEC, NLM_F_DUMP, 0);
  nft::Answer a = ctx.get(nlh, each, restart);
  if (a.err) fail(a, what);
}

uint32_t u32_data(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const void* data = nftnl_expr_get(e, attr, &len);
  uint32_t v = 0;
  if (data) std::memcpy(&v, data, std::min<size_t>(len, sizeof v));
  return v;
}

// Whether an xt compat match holds for a packet conntrack calls INVALID (no conntrack entry), as the kernel's
// conntrack_mt() and state_mt() decide it.
std::optional<bool> xt_match_invalid(const nftnl_expr* e) {
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
  uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV);
  uint32_t len = 0;
  const void* info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
  if (!name || !info) return std::nullopt;
  auto decide = [](uint16_t flags, uint16_t invert, uint16_t states) -> std::optional<bool> {
    if (!(flags & XT_CONNTRACK_STATE)) return std::nullopt;  // says nothing about the state
    return static_cast<bool>(states & XT_CONNTRACK_STATE_INVALID) != static_cast<bool>(invert & XT_CONNTRACK_STATE);
  };
  if (std::strcmp(name, "conntrack") == 0) {
    if (rev == 1 && len >= sizeof(xt_conntrack_mtinfo1)) {
      xt_conntrack_mtinfo1 m;
      std::memcpy(&m, info, sizeof m);
      return decide(m.match_flags, m.invert_flags, m.state_mask);
    }
    if (rev == 2 && len >= sizeof(xt_conntrack_mtinfo2)) {
      xt_conntrack_mtinfo2 m;
      std::memcpy(&m, info, sizeof m);
      return decide(m.match_flags, m.invert_flags, m.state_mask);
    }
    if (rev == 3 && len >= sizeof(xt_conntrack_mtinfo3)) {
      xt_conntrack_mtinfo3 m;
      std::memcpy(&m, info, sizeof m);
      return decide(m.match_flags, m.invert_flags, m.state_mask);
    }
  } else if (std::strcmp(name, "state") == 0 && len >= sizeof(xt_state_info)) {
    xt_state_info s;
    std::memcpy(&s, info, sizeof s);
    return (s.statemask & XT_STATE_INVALID) != 0;
  }
  return std::nullopt;
}

// Runs a rule's expressions for a hypothetical conntrack-INVALID packet, as far as they can be known: a
// `ct state` load gives the register the INVALID bit (NF_CT_STATE_INVALID_BIT), bitwise and cmp on that
// register are computed, xt conntrack/state matches decoded. Comparisons on anything else (interfaces,
// addresses) are assumed to hold for some packet. The rule drops INVALID packets when a state test was
// seen, none failed, and the verdict is drop.
struct InvalidEval {
  std::map<uint32_t, uint32_t> regs;  // registers holding a value derived from the ct state
  bool state_tested = false, failed = false, done = false, drop = false;
  std::string how;
};

int eval_expr(nftnl_expr* e, void* data) {
  auto& ev = *static_cast<InvalidEval*>(data);
  if (ev.done || ev.failed) return 0;
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (!name) return 0;
  std::string_view n = name;
  if (n == "ct") {
    if (!nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) return 0;  // `ct ... set`: a statement, not a load
    uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG);
    if (nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE) {
      ev.regs[dreg] = NF_CT_STATE_INVALID_BIT;
    } else {
      ev.regs.erase(dreg);
    }
  } else if (n == "meta" && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
    ev.regs.erase(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG));
  } else if (n == "payload" && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
    ev.regs.erase(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG));
  } else if (n == "bitwise") {
    uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG);
    uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG);
    bool boolean = !nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) ||
                   nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) == NFT_BITWISE_BOOL;
    auto it = ev.regs.find(sreg);
    if (it != ev.regs.end() && boolean) {
      ev.regs[dreg] = (it->second & u32_data(e, NFTNL_EXPR_BITWISE_MASK)) ^ u32_data(e, NFTNL_EXPR_BITWISE_XOR);
    } else {
      ev.regs.erase(dreg);
    }
  } else if (n == "cmp") {
    auto it = ev.regs.find(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
    if (it == ev.regs.end()) return 0;  // not about the ct state: assume some packet passes
    uint32_t value = it->second, operand = u32_data(e, NFTNL_EXPR_CMP_DATA);
    bool holds = true;
    switch (nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP)) {
      case NFT_CMP_EQ: holds = value == operand; break;
      case NFT_CMP_NEQ: holds = value != operand; break;
      default: return 0;  // ordering on a bitmask: not what ct state rules do
    }
    ev.state_tested = true;
    ev.how = "ct state";
    if (!holds) ev.failed = true;
  } else if (n == "match") {
    auto invalid = xt_match_invalid(e);
    if (!invalid) return 0;
    ev.state_tested = true;
    ev.how = fmt::format("xt match {}", nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME));
    if (!*invalid) ev.failed = true;
  } else if (n == "immediate" && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) &&
             nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
    ev.done = true;
    ev.drop = static_cast<int>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)) == NF_DROP;
  }
  return 0;
}

int find_masquerade(nftnl_expr* e, void* data) {
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (!name) return 0;
  if (std::strcmp(name, "masq") == 0) {
    *static_cast<std::string*>(data) = "masquerade";
  } else if (std::strcmp(name, "target") == 0) {
    const char* target = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
    if (target && std::strcmp(target, "MASQUERADE") == 0) *static_cast<std::string*>(data) = "xt target MASQUERADE";
  }
  return 0;
}

}  // namespace

NftRuleset nft_ruleset() {
  nft::Context ctx;
  NftRuleset out;
  dump(
      ctx, NFT_MSG_GETTABLE, "list nftables tables",
      [&](const nlmsghdr& reply) {
        std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
        if (!t) throw SystemError(ENOMEM, "nftnl_table_alloc");
        if (nftnl_table_nlmsg_parse(&reply, t.get()) < 0) throw SystemError(EBADMSG, "parse an nftables table");
        out.tables.emplace_back(family_name(nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY)),
                                nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME));
      },
      [&] { out.tables.clear(); });
  dump(
      ctx, NFT_MSG_GETCHAIN, "list nftables chains",
      [&](const nlmsghdr& reply) {
        std::unique_ptr<nftnl_chain, ChainFree> c(nftnl_chain_alloc());
        if (!c) throw SystemError(ENOMEM, "nftnl_chain_alloc");
        if (nftnl_chain_nlmsg_parse(&reply, c.get()) < 0) throw SystemError(EBADMSG, "parse an nftables chain");
        uint32_t family = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY);
        NftChain chain{family_name(family), nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE),
                       nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME), std::nullopt};
        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM))
          chain.hook = hook_name(family, nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM));
        out.chains.push_back(std::move(chain));
      },
      [&] { out.chains.clear(); });
  dump(
      ctx, NFT_MSG_GETRULE, "list nftables rules",
      [&](const nlmsghdr& reply) {
        std::unique_ptr<nftnl_rule, RuleFree> r(nftnl_rule_alloc());
        if (!r) throw SystemError(ENOMEM, "nftnl_rule_alloc");
        if (nftnl_rule_nlmsg_parse(&reply, r.get()) < 0) throw SystemError(EBADMSG, "parse an nftables rule");
        NftRuleRef ref{family_name(nftnl_rule_get_u32(r.get(), NFTNL_RULE_FAMILY)),
                       nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE), nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN),
                       nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE), ""};
        InvalidEval ev;
        nftnl_expr_foreach(r.get(), eval_expr, &ev);
        if (ev.state_tested && !ev.failed && ev.drop) {
          ref.how = ev.how;
          out.invalid_drops.push_back(ref);
        }
        std::string masq;
        nftnl_expr_foreach(r.get(), find_masquerade, &masq);
        if (!masq.empty()) {
          ref.how = masq;
          out.masquerades.push_back(ref);
        }
      },
      [&] {
        out.invalid_drops.clear();
        out.masquerades.clear();
      });
  return out;
}

}  // namespace topo::scan
