// encode_rule(): NatEntry → the expressions nft(8) generates for rule_text(e) (checked against
// `nft --debug=netlink add rule ...` of nft 1.0.6 for every form).
#include <fmt/format.h>
#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "kinds/nat/expr_layout.h"
#include "kernel/nft/layout.h"
#include "kernel/nft/nat_table.h"
#include "kinds/nat/rule_codec.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

class Encoder {
 public:
  explicit Encoder(const NatEntry& e) : e_(e), rule_(nftnl_rule_alloc()) {
    if (!rule_) throw SystemError(ENOMEM, "nftnl_rule_alloc");
  }

  RulePtr encode() {
    fail_if(e_.saddr && e_.saddr->family() != e_.family, "the source prefix is of the other family");
    fail_if(e_.daddr && e_.daddr->family() != e_.family, "the destination prefix is of the other family");
    fail_if(e_.to && e_.to->family != e_.family, "the target address is of the other family");
    fail_if(e_.mark && (e_.mark->value & ~e_.mark->mask) != 0, "the mark has bits outside its mask");
    fail_if(e_.ctmark && (e_.ctmark->value & ~e_.ctmark->mask) != 0, "the ct mark has bits outside its mask");
    fail_if((e_.ctstate & ~kCtStates) != 0, "unknown ct state bits");
    for (const auto* set : {&e_.set_mark, &e_.set_ctmark})
      fail_if(*set && !(*set)->from_other && ((*set)->to.value & ~(*set)->to.mask) != 0,
              "the mark to set has bits outside its mask");
    nftnl_rule_set_u32(rule_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(rule_.get(), NFTNL_RULE_TABLE, kTable);
    nftnl_rule_set_str(rule_.get(), NFTNL_RULE_CHAIN, std::string(chain_for(e_)).c_str());

    // The table is inet: an ip/ip6 payload match needs the nfproto dependency nft adds implicitly, and a
    // masquerade or filter rule without one is pinned to its family with an explicit `meta nfproto` (the
    // same bytecode). snat/dnat carry their family in the NAT expression.
    if (needs_nfproto(e_)) nfproto_match();
    if (e_.saddr) address_match(*e_.saddr, e_.saddr_not, true);
    if (e_.daddr) address_match(*e_.daddr, e_.daddr_not, false);
    if (!e_.iif.empty()) ifname_match(NFT_META_IIFNAME, e_.iif, e_.iif_not);
    if (!e_.oif.empty()) ifname_match(NFT_META_OIFNAME, e_.oif, e_.oif_not);
    if (e_.mark) mark_match(false, *e_.mark);
    if (e_.ctmark) mark_match(true, *e_.ctmark);
    if (e_.ctstate) ctstate_match(e_.ctstate);
    if (e_.set_mark) mark_set(false, *e_.set_mark);
    if (e_.set_ctmark) mark_set(true, *e_.set_ctmark);
    action();
    comment();
    return std::move(rule_);
  }

 private:
  [[noreturn]] void fail(int err, const std::string& why) {
    std::string text;
    try {
      text = rule_text(e_);
    } catch (const Error&) {
      text = "(owner " + e_.owner + ")";
    }
    throw SystemError(err, fmt::format("nat rule `{}`: {}", text, why));
  }
  void fail_if(bool bad, const std::string& why) {
    if (bad) fail(EINVAL, why);
  }

  nftnl_expr* add(const char* name) {
    nftnl_expr* x = nftnl_expr_alloc(name);
    if (!x) throw SystemError(ENOMEM, fmt::format("nftnl_expr_alloc({})", name));
    nftnl_rule_add_expr(rule_.get(), x);  // the rule owns it from here
    return x;
  }

  void cmp(uint32_t op, const void* data, uint32_t len) {
    nftnl_expr* x = add("cmp");
    nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, kReg);
    nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data, len);
  }

  void meta(uint32_t key) {
    nftnl_expr* x = add("meta");
    nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, kReg);
  }

  // A load of the mark into the register: `meta load mark` or `ct load mark`.
  void load_mark(bool ct) {
    if (!ct) return meta(NFT_META_MARK);
    nftnl_expr* x = add("ct");
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, kReg);
  }

  // reg = (reg & mask) ^ xor over the 4 bytes of a mark or ct state.
  void bitwise(uint32_t mask, uint32_t xr) {
    nftnl_expr* b = add("bitwise");
    nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_SREG, kReg);
    nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_DREG, kReg);
    nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
    nftnl_expr_set(b, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
    nftnl_expr_set(b, NFTNL_EXPR_BITWISE_XOR, &xr, sizeof xr);
  }

  // `meta mark 0x10`, `ct mark and 0xff == 0x10`: marks are host-order integers.
  void mark_match(bool ct, const MarkValue& m) {
    load_mark(ct);
    if (m.mask != 0xFFFFFFFF) bitwise(m.mask, 0);
    cmp(NFT_CMP_EQ, &m.value, sizeof m.value);
  }

  // `ct state new,established`: a bitmask type, matched as (state & bits) != 0 even for one state.
  void ctstate_match(uint32_t bits) {
    nftnl_expr* x = add("ct");
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, kReg);
    bitwise(bits, 0);
    const uint32_t zero = 0;
    cmp(NFT_CMP_NEQ, &zero, sizeof zero);
  }

  // `meta mark set 0x10` (immediate), `meta mark set meta mark and ~mask or value` (masked), `meta mark set
  // ct mark` (the other mark); the same for `ct mark set`.
  void mark_set(bool ct, const MarkSet& m) {
    if (m.from_other) {
      load_mark(!ct);
    } else if (m.to.mask == 0xFFFFFFFF) {
      nftnl_expr* imm = add("immediate");
      nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, kReg);
      nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, &m.to.value, sizeof m.to.value);
    } else {
      load_mark(ct);
      bitwise(~m.to.mask, m.to.value);
    }
    if (ct) {
      nftnl_expr* x = add("ct");
      nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
      nftnl_expr_set_u32(x, NFTNL_EXPR_CT_SREG, kReg);
    } else {
      nftnl_expr* x = add("meta");
      nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, NFT_META_MARK);
      nftnl_expr_set_u32(x, NFTNL_EXPR_META_SREG, kReg);
    }
  }

  void nfproto_match() {
    meta(NFT_META_NFPROTO);
    const uint8_t value = nfproto(e_.family);
    cmp(NFT_CMP_EQ, &value, sizeof value);
  }

  void address_match(const IpPrefix& p, bool negated, bool source) {
    const uint32_t full = addr_len(e_.family);
    const IpPrefix net = p.network();
    // Byte-aligned prefixes load only their bytes; others (and /0, which has no bytes) mask the address.
    const bool masked = p.len % 8 != 0 || p.len == 0;
    const uint32_t load = masked ? full : p.len / 8;
    nftnl_expr* x = add("payload");
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, addr_offset(e_.family, source));
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, load);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, kReg);
    if (masked) {
      std::array<uint8_t, 16> mask{}, zero{};
      for (unsigned bit = 0; bit < p.len; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
      nftnl_expr* b = add("bitwise");
      nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_SREG, kReg);
      nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_DREG, kReg);
      nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_LEN, full);
      nftnl_expr_set(b, NFTNL_EXPR_BITWISE_MASK, mask.data(), full);
      nftnl_expr_set(b, NFTNL_EXPR_BITWISE_XOR, zero.data(), full);
    }
    cmp(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, net.addr.bytes.data(), load);
  }

  void ifname_match(uint32_t key, const std::string& name, bool negated) {
    if (name.size() >= kIfnameLen)
      fail(ENAMETOOLONG, fmt::format("interface name \"{}\" exceeds maximum length of {} bytes", name,
                                     kIfnameLen - 1));
    fail_if(name.find('\0') != std::string::npos, "interface name contains a NUL byte");
    std::array<char, kIfnameLen> padded{};
    std::memcpy(padded.data(), name.data(), name.size());
    meta(key);
    cmp(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, padded.data(), kIfnameLen);
  }

  void action() {
    if (e_.action == NatAction::None) {
      fail_if(e_.to.has_value(), "a rule without a verdict takes no target address");
      return;
    }
    if (e_.action == NatAction::Accept || e_.action == NatAction::Drop) {
      fail_if(e_.to.has_value(), "accept and drop take no target address");
      nftnl_expr* v = add("immediate");
      nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
      nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, e_.action == NatAction::Accept ? NF_ACCEPT : NF_DROP);
      return;
    }
    if (e_.action == NatAction::Masquerade) {
      fail_if(e_.to.has_value(), "masquerade takes no target address");
      add("masq");
      return;
    }
    fail_if(!e_.to, "snat/dnat needs a target address");
    nftnl_expr* imm = add("immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, kReg);
    nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, e_.to->bytes.data(), addr_len(e_.family));
    nftnl_expr* nat = add("nat");
    nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, e_.action == NatAction::Snat ? NFT_NAT_SNAT : NFT_NAT_DNAT);
    nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, nfproto(e_.family));
    nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, kReg);
  }

  // The comment as nft writes it: one NUL-terminated NFTNL_UDATA_RULE_COMMENT TLV.
  void comment() {
    const std::string text = std::string(kOwnerPrefix) + e_.owner;
    fail_if(text.size() + 1 > 255, "the owner is too long for a rule comment");
    std::unique_ptr<nftnl_udata_buf, void (*)(const nftnl_udata_buf*)> buf(nftnl_udata_buf_alloc(512),
                                                                         nftnl_udata_buf_free);
    if (!buf || !nftnl_udata_put_strz(buf.get(), NFTNL_UDATA_RULE_COMMENT, text.c_str()))
      throw SystemError(ENOMEM, "rule comment");
    nftnl_rule_set_data(rule_.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(buf.get()),
                        nftnl_udata_buf_len(buf.get()));
  }

  const NatEntry& e_;
  RulePtr rule_;
};

}  // namespace

RulePtr encode_rule(const NatEntry& e) { return Encoder(e).encode(); }

}  // namespace topo::nft
