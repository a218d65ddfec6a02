// encode_rule() / decode_rule(): every form of NatEntry round-trips through an nftnl_rule (also through its
// netlink serialisation), and rules of any other shape decode as "undecodable" (pure, no kernel).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <linux/netlink.h>

#include <cstdio>  // before libnftnl: its headers use FILE without including it

#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "kernel/nft/nat_table.h"
#include "kinds/nat/rule_codec.h"
#include "topo/error.h"

namespace {

using topo::Family;
using topo::IpAddress;
using topo::IpPrefix;
using topo::NatAction;
using topo::NatEntry;
using topo::nft::decode_rule;
using topo::nft::encode_rule;
using topo::nft::RulePtr;

IpPrefix pfx(const char* s) { return *IpPrefix::parse(s); }
IpAddress addr(const char* s) { return *IpAddress::parse(s); }

NatEntry entry(Family f, NatAction a) {
  NatEntry e;
  e.family = f;
  e.action = a;
  e.owner = "c1:eth0";
  return e;
}

bool undecodable(const NatEntry& e) { return e.iif.starts_with("?"); }

// The rule as the kernel would hand it back: serialised into a netlink message and parsed into a new object.
RulePtr through_netlink(const nftnl_rule& r) {
  alignas(nlmsghdr) std::array<char, 4096> buf{};
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
  nftnl_rule_nlmsg_build_payload(nlh, const_cast<nftnl_rule*>(&r));
  RulePtr out(nftnl_rule_alloc());
  REQUIRE(nftnl_rule_nlmsg_parse(nlh, out.get()) == 0);
  return out;
}

NatEntry round_trip(const NatEntry& e) {
  RulePtr r = encode_rule(e);
  auto owner = topo::nft::rule_owner(*r);
  REQUIRE(owner);
  CHECK(*owner == e.owner);
  NatEntry direct = decode_rule(*r, e.scope, *owner);
  NatEntry wired = decode_rule(*through_netlink(*r), e.scope, *owner);
  CHECK(direct == wired);
  return wired;
}

// Every form rule_text() writes, for one family, with prefixes of every encoding: host, byte-aligned (a
// shorter load), not byte-aligned (bitwise mask), /0 (bitwise with an empty mask).
std::vector<NatEntry> every_form(Family f) {
  const bool v4 = f == Family::V4;
  std::vector<NatEntry> out;
  out.push_back(entry(f, NatAction::Masquerade));

  NatEntry ifs = entry(f, NatAction::Masquerade);
  ifs.iif = "veth-a";
  ifs.oif = "eth0";
  ifs.oif_not = true;
  out.push_back(ifs);

  NatEntry longest = entry(f, NatAction::Masquerade);
  longest.oif = "0123456789abcde";  // 15 bytes: the longest IFNAMSIZ allows
  out.push_back(longest);

  for (const char* p : v4 ? std::vector<const char*>{"10.1.0.0/16", "10.1.2.0/24", "10.1.0.0/20", "10.1.2.3/32",
                                                     "0.0.0.0/0", "10.0.0.0/8", "10.1.2.2/31", "128.0.0.0/1"}
                          : std::vector<const char*>{"fd00:1::/64", "fd00::/48", "fd00::/7", "fd00::7/128",
                                                     "::/0", "fd00:1::/127", "fd00:1:2:3::/63"}) {
    for (bool negated : {false, true}) {
      NatEntry src = entry(f, NatAction::Masquerade);
      src.saddr = pfx(p);
      src.saddr_not = negated;
      out.push_back(src);
      NatEntry dst = entry(f, NatAction::Snat);
      dst.daddr = pfx(p);
      dst.daddr_not = negated;
      dst.to = v4 ? addr("192.0.2.1") : addr("2001:db8::1");
      out.push_back(dst);
    }
  }

  NatEntry both = entry(f, NatAction::Masquerade);
  both.saddr = v4 ? pfx("10.1.0.0/16") : pfx("fd00:1::/64");
  both.daddr = v4 ? pfx("10.1.0.0/16") : pfx("fd00:1::/64");
  both.daddr_not = true;
  both.iif = "veth-b";
  both.iif_not = true;
  both.oif = "eth0";
  out.push_back(both);

  NatEntry snat_only = entry(f, NatAction::Snat);
  snat_only.to = v4 ? addr("192.0.2.2") : addr("2001:db8::2");
  out.push_back(snat_only);

  NatEntry snat_if = snat_only;
  snat_if.oif = "eth1";
  snat_if.oif_not = true;
  out.push_back(snat_if);

  NatEntry dnat = entry(f, NatAction::Dnat);
  dnat.daddr = v4 ? pfx("192.0.2.10") : pfx("2001:db8::10");
  dnat.iif = "eth0";
  dnat.saddr = v4 ? pfx("198.51.100.0/24") : pfx("2001:db8:100::/48");
  dnat.saddr_not = true;
  dnat.to = v4 ? addr("10.2.0.10") : addr("fd00:2::10");
  out.push_back(dnat);
  return out;
}

// ---- hand-built rules for the undecodable cases ----

class Hand {
 public:
  Hand() : r_(nftnl_rule_alloc()) {
    nftnl_rule_set_u32(r_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_TABLE, "topocni");
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_CHAIN, "postrouting");
  }
  Hand& meta(uint32_t key) {
    auto* x = add("meta");
    nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, NFT_REG_1);
    return *this;
  }
  Hand& cmp(uint32_t op, std::vector<uint8_t> data) {
    auto* x = add("cmp");
    nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data.data(), data.size());
    return *this;
  }
  Hand& nfproto(uint8_t v) { return meta(NFT_META_NFPROTO).cmp(NFT_CMP_EQ, {v}); }
  Hand& ifname(uint32_t key, const char* name, uint32_t op = NFT_CMP_EQ) {
    std::vector<uint8_t> padded(16, 0);
    std::memcpy(padded.data(), name, std::strlen(name));
    return meta(key).cmp(op, padded);
  }
  Hand& payload(uint32_t base, uint32_t offset, uint32_t len) {
    auto* x = add("payload");
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    return *this;
  }
  Hand& bitwise(std::vector<uint8_t> mask, std::vector<uint8_t> xr) {
    auto* x = add("bitwise");
    nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, mask.size());
    nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, mask.data(), mask.size());
    nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, xr.data(), xr.size());
    return *this;
  }
  Hand& masq(uint32_t flags = 0) {
    auto* x = add("masq");
    if (flags) nftnl_expr_set_u32(x, NFTNL_EXPR_MASQ_FLAGS, flags);
    return *this;
  }
  Hand& nat(uint32_t type, uint32_t family, std::vector<uint8_t> target, bool port = false) {
    auto* imm = add("immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, target.data(), target.size());
    if (port) {
      auto* p = add("immediate");
      uint16_t v = htons(80);
      nftnl_expr_set_u32(p, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
      nftnl_expr_set(p, NFTNL_EXPR_IMM_DATA, &v, sizeof v);
    }
    auto* x = add("nat");
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_TYPE, type);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_FAMILY, family);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
    if (port) nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
    return *this;
  }
  Hand& chain(const char* name) {
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_CHAIN, name);
    return *this;
  }
  Hand& ct(uint32_t key) {
    auto* x = add("ct");
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, key);
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    return *this;
  }
  Hand& store(const char* name, uint32_t key) {  // "meta" or "ct" set with reg 1
    auto* x = add(name);
    nftnl_expr_set_u32(x, std::string(name) == "ct" ? NFTNL_EXPR_CT_KEY : NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(x, std::string(name) == "ct" ? NFTNL_EXPR_CT_SREG : NFTNL_EXPR_META_SREG, NFT_REG_1);
    return *this;
  }
  Hand& imm32(uint32_t v) {
    auto* x = add("immediate");
    nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set(x, NFTNL_EXPR_IMM_DATA, &v, sizeof v);
    return *this;
  }
  // A jump or goto names its target chain, as the kernel's always does (libnftnl's parser reads the chain of a
  // jump without checking that it is there: a jump without one crashes it under ASan).
  Hand& verdict(int v, const char* target = nullptr) {
    auto* x = add("immediate");
    nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(v));
    if (target) nftnl_expr_set_str(x, NFTNL_EXPR_IMM_CHAIN, target);
    return *this;
  }
  Hand& counter() {
    add("counter");
    return *this;
  }
  const nftnl_rule& rule() const { return *r_; }

 private:
  nftnl_expr* add(const char* name) {
    nftnl_expr* x = nftnl_expr_alloc(name);
    REQUIRE(x);
    nftnl_rule_add_expr(r_.get(), x);
    return x;
  }
  RulePtr r_;
};

constexpr uint8_t V4 = NFPROTO_IPV4, V6 = NFPROTO_IPV6;
const std::vector<uint8_t> k1234{1, 2, 3, 4};

NatEntry decode(const Hand& h) { return decode_rule(*through_netlink(h.rule()), "host", "c1"); }

}  // namespace

TEST_CASE("every form round-trips through encode_rule and decode_rule, V4 and V6") {
  for (Family f : {Family::V4, Family::V6}) {
    for (NatEntry e : every_form(f)) {
      // The kernel keeps a prefix as mask + compare: what comes back has its host bits cleared.
      if (e.saddr) e.saddr = e.saddr->network();
      if (e.daddr) e.daddr = e.daddr->network();
      e.scope = "host";
      CAPTURE(topo::nft::rule_text(e));
      NatEntry back = round_trip(e);
      CHECK_FALSE(undecodable(back));
      CHECK(back == e);
    }
  }
}

TEST_CASE("the expressions are the ones nft writes for the same rule text") {
  // `nft --debug=netlink add rule inet topocni postrouting ip saddr 10.1.0.0/20 oifname "eth0" masquerade`
  NatEntry e = entry(Family::V4, NatAction::Masquerade);
  e.saddr = pfx("10.1.0.0/20");
  e.oif = "eth0";
  RulePtr r = encode_rule(e);
  std::string text;
  std::array<char, 4096> buf{};
  nftnl_rule_snprintf(buf.data(), buf.size(), r.get(), NFTNL_OUTPUT_DEFAULT, 0);
  text = buf.data();
  CAPTURE(text);
  const char* expected[] = {
      "[ meta load nfproto => reg 1 ]",
      "[ cmp eq reg 1 0x00000002 ]",
      "[ payload load 4b @ network header + 12 => reg 1 ]",
      "[ bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000 ]",
      "[ cmp eq reg 1 0x0000010a ]",
      "[ meta load oifname => reg 1 ]",
      "[ cmp eq reg 1 0x30687465 0x00000000 0x00000000 0x00000000 ]",
      "[ masq ]",
  };
  size_t at = 0;
  for (const char* line : expected) {
    size_t found = text.find(line, at);
    CHECK_MESSAGE(found != std::string::npos, line);
    if (found != std::string::npos) at = found;
  }
  // A byte-aligned prefix loads only its bytes, as nft does.
  e.saddr = pfx("10.1.0.0/16");
  r = encode_rule(e);
  nftnl_rule_snprintf(buf.data(), buf.size(), r.get(), NFTNL_OUTPUT_DEFAULT, 0);
  text = buf.data();
  CHECK(text.find("[ payload load 2b @ network header + 12 => reg 1 ]") != std::string::npos);
  CHECK(text.find("bitwise") == std::string::npos);
}

// Filter and mark rules: every match and statement, alone and together, at every hook.
std::vector<NatEntry> filter_forms(Family f) {
  using topo::MarkSet;
  using topo::MarkValue;
  using topo::NftHook;
  std::vector<NatEntry> out;
  for (NftHook h : {NftHook::Prerouting, NftHook::Input, NftHook::Forward, NftHook::Output, NftHook::Postrouting}) {
    for (NatAction a : {NatAction::Accept, NatAction::Drop}) {
      NatEntry e = entry(f, a);
      e.hook = h;
      out.push_back(e);
    }
  }
  auto at = [&](NftHook h, NatAction a) {
    NatEntry e = entry(f, a);
    e.hook = h;
    return e;
  };
  NatEntry states = at(NftHook::Forward, NatAction::Drop);
  states.ctstate = topo::kCtInvalid;
  out.push_back(states);
  states.ctstate = topo::kCtEstablished | topo::kCtRelated;
  states.action = NatAction::Accept;
  out.push_back(states);
  states.ctstate = topo::kCtInvalid | topo::kCtEstablished | topo::kCtRelated | topo::kCtNew | topo::kCtUntracked;
  out.push_back(states);

  NatEntry marks = at(NftHook::Input, NatAction::Accept);
  marks.mark = MarkValue{0x10, 0xFFFFFFFF};
  out.push_back(marks);
  marks.mark = MarkValue{0x10, 0xff};
  marks.ctmark = MarkValue{0x20, 0xFFFFFFFF};
  out.push_back(marks);
  marks.mark.reset();
  marks.ctmark = MarkValue{0x0, 0xff00};
  out.push_back(marks);

  // The reply-path pattern: mark the connection on the way in, restore the mark on the reply.
  NatEntry in = at(NftHook::Prerouting, NatAction::None);
  in.iif = "veth0";
  in.ctstate = topo::kCtNew;
  in.set_ctmark = MarkSet{false, {0x10, 0xFFFFFFFF}};
  out.push_back(in);
  NatEntry reply = at(NftHook::Output, NatAction::None);
  reply.ctmark = MarkValue{0x10, 0xff};
  reply.set_mark = MarkSet{true, {}};
  out.push_back(reply);
  NatEntry save = at(NftHook::Prerouting, NatAction::Accept);
  save.saddr = f == Family::V4 ? pfx("10.1.0.0/16") : pfx("fd00:1::/64");
  save.oif.clear();
  save.set_mark = MarkSet{false, {0x100, 0xf00}};
  save.set_ctmark = MarkSet{true, {}};
  out.push_back(save);
  NatEntry masked_ct = at(NftHook::Forward, NatAction::None);
  masked_ct.oif = "eth0";
  masked_ct.set_ctmark = MarkSet{false, {0x2, 0xff}};
  out.push_back(masked_ct);
  NatEntry both = at(NftHook::Output, NatAction::Drop);
  both.mark = MarkValue{1, 0xFFFFFFFF};
  both.ctmark = MarkValue{2, 0xFFFFFFFF};
  both.ctstate = topo::kCtNew;
  both.set_mark = MarkSet{false, {3, 0xFFFFFFFF}};
  both.set_ctmark = MarkSet{false, {4, 0xFFFFFFFF}};
  out.push_back(both);

  // A NAT rule may carry matches and statements too.
  NatEntry dnat = entry(f, NatAction::Dnat);
  dnat.daddr = f == Family::V4 ? pfx("192.0.2.10") : pfx("2001:db8::10");
  dnat.to = f == Family::V4 ? addr("10.2.0.10") : addr("fd00:2::10");
  dnat.ctstate = topo::kCtNew;
  dnat.set_ctmark = MarkSet{false, {0x10, 0xFFFFFFFF}};
  out.push_back(dnat);
  NatEntry masq = entry(f, NatAction::Masquerade);
  masq.mark = MarkValue{0x10, 0xff};
  out.push_back(masq);
  return out;
}

TEST_CASE("filter and mark rules round-trip through encode_rule and decode_rule, V4 and V6") {
  size_t n = 0;
  for (Family f : {Family::V4, Family::V6}) {
    for (NatEntry e : filter_forms(f)) {
      e.scope = "host";
      CAPTURE(topo::nft::rule_text(e));
      NatEntry back = round_trip(e);
      CHECK_FALSE(undecodable(back));
      CHECK(back == e);
      ++n;
    }
  }
  CHECK(n == 2 * 23);
}

TEST_CASE("filter and mark rules are the expressions nft writes for the same rule text") {
  // `nft --debug=netlink add rule inet t p meta nfproto ipv4 iifname "veth0" ct state new ct mark set 0x10`
  // and `... meta nfproto ipv4 ct mark and 0xff == 0x10 meta mark set ct mark`, `... meta mark set meta mark
  // and 0xffffff00 or 0x10 drop` (nft 1.0.6).
  struct Case {
    NatEntry e;
    std::string text;
    std::vector<const char*> lines;
  };
  NatEntry in = entry(Family::V4, NatAction::None);
  in.hook = topo::NftHook::Prerouting;
  in.iif = "veth0";
  in.ctstate = topo::kCtNew;
  in.set_ctmark = topo::MarkSet{false, {0x10, 0xFFFFFFFF}};
  NatEntry reply = entry(Family::V4, NatAction::None);
  reply.hook = topo::NftHook::Output;
  reply.ctmark = topo::MarkValue{0x10, 0xff};
  reply.set_mark = topo::MarkSet{true, {}};
  NatEntry masked = entry(Family::V6, NatAction::Drop);
  masked.hook = topo::NftHook::Forward;
  masked.set_mark = topo::MarkSet{false, {0x10, 0xff}};
  std::vector<Case> cases = {
      {in,
       "meta nfproto ipv4 iifname \"veth0\" ct state new ct mark set 0x00000010 comment \"topocni:c1:eth0\"",
       {"[ meta load nfproto => reg 1 ]", "[ cmp eq reg 1 0x00000002 ]", "[ meta load iifname => reg 1 ]",
        "[ cmp eq reg 1 0x68746576 0x00000030 0x00000000 0x00000000 ]", "[ ct load state => reg 1 ]",
        "[ bitwise reg 1 = ( reg 1 & 0x00000008 ) ^ 0x00000000 ]", "[ cmp neq reg 1 0x00000000 ]",
        "[ immediate reg 1 0x00000010 ]", "[ ct set mark with reg 1 ]"}},
      {reply,
       "meta nfproto ipv4 ct mark & 0x000000ff == 0x00000010 meta mark set ct mark comment \"topocni:c1:eth0\"",
       {"[ ct load mark => reg 1 ]", "[ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ]",
        "[ cmp eq reg 1 0x00000010 ]", "[ ct load mark => reg 1 ]", "[ meta set mark with reg 1 ]"}},
      {masked,
       "meta nfproto ipv6 meta mark set meta mark & 0xffffff00 | 0x00000010 drop comment \"topocni:c1:eth0\"",
       {"[ cmp eq reg 1 0x0000000a ]", "[ meta load mark => reg 1 ]",
        "[ bitwise reg 1 = ( reg 1 & 0xffffff00 ) ^ 0x00000010 ]", "[ meta set mark with reg 1 ]",
        "[ immediate reg 0 drop ]"}},
  };
  for (const Case& c : cases) {
    CHECK(topo::nft::rule_text(c.e) == c.text);
    RulePtr r = encode_rule(c.e);
    std::array<char, 4096> buf{};
    nftnl_rule_snprintf(buf.data(), buf.size(), r.get(), NFTNL_OUTPUT_DEFAULT, 0);
    const std::string text = buf.data();
    CAPTURE(text);
    size_t at = 0;
    for (const char* line : c.lines) {
      size_t found = text.find(line, at);
      CHECK_MESSAGE(found != std::string::npos, line);
      if (found != std::string::npos) at = found;
    }
  }
}

TEST_CASE("filter and mark rules that cannot be written are refused") {
  NatEntry e = entry(Family::V4, NatAction::Drop);
  e.hook = topo::NftHook::Input;
  e.mark = topo::MarkValue{0x110, 0xff};
  CHECK_THROWS_AS(encode_rule(e), topo::SystemError);
  e.mark.reset();
  e.set_ctmark = topo::MarkSet{false, {0x100, 0xff}};
  CHECK_THROWS_AS(encode_rule(e), topo::SystemError);
  e.set_ctmark.reset();
  e.ctstate = 0x10;  // not a state nft names
  CHECK_THROWS_AS(encode_rule(e), topo::SystemError);
  e.ctstate = 0;
  e.to = addr("10.0.0.1");
  CHECK_THROWS_AS(encode_rule(e), topo::SystemError);
}

TEST_CASE("the owner lives in the comment userdata; a rule without ours has none") {
  NatEntry e = entry(Family::V6, NatAction::Masquerade);
  e.owner = "att 7/eth0";
  RulePtr r = encode_rule(e);
  CHECK(topo::nft::rule_owner(*through_netlink(*r)) == "att 7/eth0");
  Hand none;
  none.nfproto(V4).masq();
  CHECK_FALSE(topo::nft::rule_owner(none.rule()));
}

TEST_CASE("entries that cannot be written are refused before anything is sent") {
  NatEntry e = entry(Family::V4, NatAction::Masquerade);
  e.oif = "0123456789abcdef";  // 16 bytes: no room for the NUL
  CHECK_THROWS_AS(encode_rule(e), topo::SystemError);
  try {
    encode_rule(e);
  } catch (const topo::SystemError& err) {
    CHECK(std::string(err.what()).find("exceeds maximum length") != std::string::npos);
    CHECK(std::string(err.what()).find("oifname \"0123456789abcdef\"") != std::string::npos);
  }
  NatEntry dnat = entry(Family::V4, NatAction::Dnat);
  dnat.to = addr("fd00::1");
  CHECK_THROWS_AS(encode_rule(dnat), topo::SystemError);
  NatEntry mixed = entry(Family::V6, NatAction::Masquerade);
  mixed.saddr = pfx("10.0.0.0/8");
  CHECK_THROWS_AS(encode_rule(mixed), topo::SystemError);
  NatEntry masq_to = entry(Family::V4, NatAction::Masquerade);
  masq_to.to = addr("192.0.2.1");
  CHECK_THROWS_AS(encode_rule(masq_to), topo::SystemError);
  NatEntry snat = entry(Family::V4, NatAction::Snat);
  CHECK_THROWS_AS(encode_rule(snat), topo::SystemError);
}

TEST_CASE("shapes encode_rule never writes are undecodable") {
  const std::vector<uint8_t> saddr_v4_bytes{10, 0, 0, 1};
  std::vector<std::pair<const char*, Hand>> cases;
  auto add = [&](const char* what) -> Hand& { return cases.emplace_back(what, Hand{}).second; };

  add("family-less masquerade").ifname(NFT_META_OIFNAME, "eth0").masq();
  add("no expressions at all");
  add("nfproto only, no action").nfproto(V4);
  add("nfproto next to nothing for snat").nfproto(V4).nat(NFT_NAT_SNAT, V4, k1234);
  add("negated nfproto").meta(NFT_META_NFPROTO).cmp(NFT_CMP_NEQ, {V4}).masq();
  add("masquerade with flags").nfproto(V4).masq(NF_NAT_RANGE_PERSISTENT);
  add("dnat with a port").nat(NFT_NAT_DNAT, V4, k1234, true);
  add("mixed families").nfproto(V6).payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16).cmp(NFT_CMP_EQ, std::vector<uint8_t>(16, 1))
      .nat(NFT_NAT_SNAT, V4, k1234);
  add("nat family against its target").nat(NFT_NAT_SNAT, V6, k1234);
  add("payload without nfproto").payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4).cmp(NFT_CMP_EQ, saddr_v4_bytes).masq();
  add("transport header (tcp dport 80)").nfproto(V4).payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2).cmp(NFT_CMP_EQ, {0, 80})
      .masq();
  add("an address field we never match").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 1).cmp(NFT_CMP_EQ, {64}).masq();
  add("a range compare").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4).cmp(NFT_CMP_GT, saddr_v4_bytes).masq();
  add("a mask that is not a prefix").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4)
      .bitwise({0xff, 0, 0xff, 0}, {0, 0, 0, 0}).cmp(NFT_CMP_EQ, {10, 0, 0, 0}).masq();
  add("a byte-aligned prefix written as a mask").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4)
      .bitwise({0xff, 0xff, 0, 0}, {0, 0, 0, 0}).cmp(NFT_CMP_EQ, {10, 1, 0, 0}).masq();
  add("a mask with xor").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4)
      .bitwise({0xff, 0xf0, 0, 0}, {0, 0, 0, 1}).cmp(NFT_CMP_EQ, {10, 0, 0, 0}).masq();
  add("host bits under the mask").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4)
      .bitwise({0xff, 0xf0, 0, 0}, {0, 0, 0, 0}).cmp(NFT_CMP_EQ, {10, 0, 0, 1}).masq();
  add("a wildcard interface (eth*)").nfproto(V4).meta(NFT_META_OIFNAME).cmp(NFT_CMP_EQ, {'e', 't', 'h'}).masq();
  add("an interface name with bytes after its NUL").nfproto(V4).meta(NFT_META_OIFNAME)
      .cmp(NFT_CMP_EQ, {'e', 't', 'h', 0, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}).masq();
  add("an empty interface name").nfproto(V4).meta(NFT_META_IIFNAME).cmp(NFT_CMP_EQ, std::vector<uint8_t>(16, 0)).masq();
  add("the same match twice").nfproto(V4).ifname(NFT_META_IIFNAME, "a").ifname(NFT_META_IIFNAME, "b").masq();
  add("matches out of order").nfproto(V4).ifname(NFT_META_OIFNAME, "a").ifname(NFT_META_IIFNAME, "b").masq();
  add("daddr before saddr").nfproto(V4).payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4).cmp(NFT_CMP_EQ, k1234)
      .payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4).cmp(NFT_CMP_EQ, k1234).masq();
  add("another meta key (priority)").nfproto(V4).meta(NFT_META_PRIORITY).cmp(NFT_CMP_EQ, {1, 0, 0, 0}).masq();
  add("a counter").nfproto(V4).counter().masq();
  add("two actions").nat(NFT_NAT_SNAT, V4, k1234).nat(NFT_NAT_SNAT, V4, {1, 2, 3, 5});
  add("a match after the action").nfproto(V4).masq().ifname(NFT_META_OIFNAME, "eth0");
  add("an ip6 target of the wrong size").nat(NFT_NAT_SNAT, V6, k1234);
  // Filter and mark rules.
  const std::vector<uint8_t> k16{0x10, 0, 0, 0}, k0{0, 0, 0, 0};
  add("a verdict in a nat chain").nfproto(V4).verdict(NF_ACCEPT);
  add("a verdict in a chain not ours").chain("forward").nfproto(V4).verdict(NF_DROP);
  add("a filter rule without nfproto").chain("filter-input").verdict(NF_DROP);
  add("a jump verdict").chain("filter-input").nfproto(V4).verdict(NFT_JUMP, "elsewhere");
  add("ct state without its bitwise").chain("filter-input").nfproto(V4).ct(NFT_CT_STATE).cmp(NFT_CMP_EQ, {8, 0, 0, 0})
      .verdict(NF_DROP);
  add("ct state compared equal").chain("filter-input").nfproto(V4).ct(NFT_CT_STATE).bitwise({8, 0, 0, 0}, k0)
      .cmp(NFT_CMP_EQ, k0).verdict(NF_DROP);
  add("an unknown ct state bit").chain("filter-input").nfproto(V4).ct(NFT_CT_STATE).bitwise({0, 1, 0, 0}, k0)
      .cmp(NFT_CMP_NEQ, k0).verdict(NF_DROP);
  add("a negated mark").chain("filter-input").nfproto(V4).meta(NFT_META_MARK).cmp(NFT_CMP_NEQ, k16).verdict(NF_DROP);
  add("a mark with an all-ones bitwise").chain("filter-input").nfproto(V4).meta(NFT_META_MARK)
      .bitwise({0xff, 0xff, 0xff, 0xff}, k0).cmp(NFT_CMP_EQ, k16).verdict(NF_DROP);
  add("a mark value outside its mask").chain("filter-input").nfproto(V4).meta(NFT_META_MARK)
      .bitwise({0x0f, 0, 0, 0}, k0).cmp(NFT_CMP_EQ, k16).verdict(NF_DROP);
  add("another ct key (status)").chain("filter-input").nfproto(V4).ct(NFT_CT_STATUS).cmp(NFT_CMP_EQ, k16)
      .verdict(NF_DROP);
  add("meta mark set meta mark").chain("filter-output").nfproto(V4).meta(NFT_META_MARK).store("meta", NFT_META_MARK);
  add("a masked copy of the other mark").chain("filter-output").nfproto(V4).ct(NFT_CT_MARK)
      .bitwise({0xff, 0, 0, 0}, k0).store("meta", NFT_META_MARK);
  add("ct mark set before meta mark set").chain("filter-output").nfproto(V4).imm32(1).store("ct", NFT_CT_MARK)
      .imm32(2).store("meta", NFT_META_MARK);
  add("a statement before a match").chain("filter-output").nfproto(V4).imm32(1).store("meta", NFT_META_MARK)
      .meta(NFT_META_MARK).cmp(NFT_CMP_EQ, k16);
  add("an immediate stored into priority").chain("filter-output").nfproto(V4).imm32(1)
      .store("meta", NFT_META_PRIORITY);

  for (const auto& [what, hand] : cases) {
    CAPTURE(what);
    NatEntry e = decode(hand);
    CHECK(undecodable(e));
    CHECK(e.owner == "c1");
    CHECK(e.scope == "host");
    // Deterministic: the same rule renders the same way (apply() matches deletes on it).
    CHECK(decode(hand) == e);
  }
}
