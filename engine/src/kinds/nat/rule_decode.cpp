// decode_rule(): the expressions of a listed rule back into a NatEntry, accepting only what encode_rule()
// writes (in the form the kernel dumps it back), and rule_owner() from the comment userdata.
#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>

#include <array>
#include <optional>
#include <utility>
#include <cstring>
#include <vector>

#include "kinds/nat/expr_layout.h"
#include "kernel/nft/layout.h"
#include "kinds/nat/rule_codec.h"
#include "topo/model/ownership.h"

namespace topo::nft {

namespace {

// Thrown (and caught below) when a rule is not of the shape encode_rule() writes.
struct Undecodable {};

void require(bool ok) {
  if (!ok) throw Undecodable{};
}

std::vector<const nftnl_expr*> expressions(const nftnl_rule& r) {
  std::vector<const nftnl_expr*> out;
  nftnl_expr_iter* it = nftnl_expr_iter_create(&r);
  if (!it) return out;
  for (nftnl_expr* x = nftnl_expr_iter_next(it); x; x = nftnl_expr_iter_next(it)) out.push_back(x);
  nftnl_expr_iter_destroy(it);
  return out;
}

std::string name_of(const nftnl_expr* x) {
  const char* n = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);
  return n ? n : "";
}

uint32_t u32(const nftnl_expr* x, uint16_t attr) {
  require(nftnl_expr_is_set(x, attr));
  return nftnl_expr_get_u32(x, attr);
}

// An attribute that must be absent or hold `value` (the kernel dumps some defaults, e.g. a bitwise op).
void absent_or(const nftnl_expr* x, uint16_t attr, uint32_t value) {
  if (nftnl_expr_is_set(x, attr)) require(nftnl_expr_get_u32(x, attr) == value);
}

struct Bytes {
  const uint8_t* data{nullptr};
  uint32_t len{0};
};
Bytes bytes(const nftnl_expr* x, uint16_t attr) {
  require(nftnl_expr_is_set(x, attr));
  Bytes b;
  b.data = static_cast<const uint8_t*>(nftnl_expr_get(x, attr, &b.len));
  require(b.data != nullptr);
  return b;
}

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

// The order encode_rule() writes matches in; each at most once.
enum class Slot { Nfproto, Saddr, Daddr, Iif, Oif, Mark, CtMark, CtState, SetMark, SetCtMark, Action };

uint32_t u32_of(const Bytes& b) {
  require(b.len == sizeof(uint32_t));
  uint32_t v = 0;
  std::memcpy(&v, b.data, sizeof v);
  return v;
}

class Decoder {
 public:
  explicit Decoder(const nftnl_rule& r) : x_(expressions(r)) {
    if (nftnl_rule_is_set(&r, NFTNL_RULE_CHAIN)) chain_ = nftnl_rule_get_str(&r, NFTNL_RULE_CHAIN);
  }

  NatEntry decode() {
    e_.action = NatAction::None;
    while (at_ < x_.size()) {
      const std::string name = name_of(x_[at_]);
      if (name == "meta" && !nftnl_expr_is_set(x_[at_], NFTNL_EXPR_META_SREG) &&
          u32(x_[at_], NFTNL_EXPR_META_KEY) == NFT_META_MARK) {
        mark_load(false);
      } else if (name == "meta") {
        meta_match();
      } else if (name == "ct") {
        require(!nftnl_expr_is_set(x_[at_], NFTNL_EXPR_CT_SREG) && !nftnl_expr_is_set(x_[at_], NFTNL_EXPR_CT_DIR));
        if (u32(x_[at_], NFTNL_EXPR_CT_KEY) == NFT_CT_STATE)
          ctstate_match();
        else
          mark_load(true);
      } else if (name == "payload") {
        address_match();
      } else if (name == "immediate" && at_ + 1 < x_.size() &&
                 (name_of(x_[at_ + 1]) == "meta" || name_of(x_[at_ + 1]) == "ct")) {
        mark_set_immediate();
      } else {
        action();
        break;
      }
    }
    require(at_ == x_.size());
    // nfproto is written exactly when there is an address match (its dependency) or the rule is not
    // snat/dnat (expr_layout.h needs_nfproto).
    require(nfproto_seen_ == needs_nfproto(e_));
    // A filter rule's hook is its chain's; a NAT rule's chain follows from its action.
    if (!is_nat(e_.action)) {
      bool found = false;
      for (NftHook h : {NftHook::Prerouting, NftHook::Input, NftHook::Forward, NftHook::Output,
                        NftHook::Postrouting}) {
        if (chain_ == filter_chain(h)) {
          e_.hook = h;
          found = true;
        }
      }
      require(found);
    }
    return e_;
  }

 private:
  const nftnl_expr* next(const char* name) {
    require(at_ < x_.size() && name_of(x_[at_]) == name);
    return x_[at_++];
  }

  void advance(Slot s) {
    require(static_cast<int>(s) > static_cast<int>(slot_) || (first_ && s == Slot::Nfproto));
    first_ = false;
    slot_ = s;
  }

  void family(Family f) {
    require(!family_set_ || e_.family == f);
    e_.family = f;
    family_set_ = true;
  }

  // cmp on the register the previous load wrote; returns its data, sets `negated`.
  Bytes compare(bool& negated, uint32_t len) {
    const nftnl_expr* c = next("cmp");
    require(u32(c, NFTNL_EXPR_CMP_SREG) == kReg);
    const uint32_t op = u32(c, NFTNL_EXPR_CMP_OP);
    require(op == NFT_CMP_EQ || op == NFT_CMP_NEQ);
    negated = op == NFT_CMP_NEQ;
    Bytes b = bytes(c, NFTNL_EXPR_CMP_DATA);
    require(b.len == len);
    return b;
  }

  const nftnl_expr* peek() const { return at_ < x_.size() ? x_[at_] : nullptr; }

  // A `bitwise reg = (reg & mask) ^ xor` over 4 bytes, if one comes next.
  std::optional<std::pair<uint32_t, uint32_t>> bitwise32() {
    const nftnl_expr* b = peek();
    if (!b || name_of(b) != "bitwise") return std::nullopt;
    ++at_;
    require(u32(b, NFTNL_EXPR_BITWISE_SREG) == kReg && u32(b, NFTNL_EXPR_BITWISE_DREG) == kReg);
    require(u32(b, NFTNL_EXPR_BITWISE_LEN) == sizeof(uint32_t));
    absent_or(b, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
    require(!nftnl_expr_is_set(b, NFTNL_EXPR_BITWISE_DATA));
    return std::pair{u32_of(bytes(b, NFTNL_EXPR_BITWISE_MASK)), u32_of(bytes(b, NFTNL_EXPR_BITWISE_XOR))};
  }

  // The store of a mark statement: `meta set mark` (ct false) or `ct set mark`; nullopt if none comes next.
  std::optional<bool> mark_store() {
    const nftnl_expr* x = peek();
    if (!x) return std::nullopt;
    const std::string name = name_of(x);
    if (name == "meta" && nftnl_expr_is_set(x, NFTNL_EXPR_META_SREG)) {
      require(u32(x, NFTNL_EXPR_META_KEY) == NFT_META_MARK && u32(x, NFTNL_EXPR_META_SREG) == kReg &&
              !nftnl_expr_is_set(x, NFTNL_EXPR_META_DREG));
      ++at_;
      return false;
    }
    if (name == "ct" && nftnl_expr_is_set(x, NFTNL_EXPR_CT_SREG)) {
      require(u32(x, NFTNL_EXPR_CT_KEY) == NFT_CT_MARK && u32(x, NFTNL_EXPR_CT_SREG) == kReg &&
              !nftnl_expr_is_set(x, NFTNL_EXPR_CT_DREG) && !nftnl_expr_is_set(x, NFTNL_EXPR_CT_DIR));
      ++at_;
      return true;
    }
    return std::nullopt;
  }

  void put_set(bool ct, const MarkSet& m) {
    advance(ct ? Slot::SetCtMark : Slot::SetMark);
    (ct ? e_.set_ctmark : e_.set_mark) = m;
  }

  // `meta load mark` / `ct load mark`, then either a match (bitwise?, cmp) or a statement: masked set of the
  // same mark (bitwise, store) or a copy into the other mark (store).
  void mark_load(bool ct) {
    const nftnl_expr* load = x_[at_++];
    if (ct) {
      require(u32(load, NFTNL_EXPR_CT_KEY) == NFT_CT_MARK && u32(load, NFTNL_EXPR_CT_DREG) == kReg);
    } else {
      require(u32(load, NFTNL_EXPR_META_DREG) == kReg);
    }
    const auto bw = bitwise32();
    if (auto store = mark_store()) {
      MarkSet m;
      if (bw) {
        // (mark & ~mask) ^ value into the same mark: the mask is not all ones (that is an immediate).
        require(*store == ct && bw->first != 0);
        m.to.mask = ~bw->first;
        m.to.value = bw->second;
        require((m.to.value & bw->first) == 0);
      } else {
        require(*store != ct);
        m.from_other = true;
      }
      put_set(*store, m);
      return;
    }
    advance(ct ? Slot::CtMark : Slot::Mark);
    MarkValue m;
    if (bw) {
      require(bw->second == 0 && bw->first != 0xFFFFFFFF);
      m.mask = bw->first;
    }
    bool negated = false;
    m.value = u32_of(compare(negated, sizeof(uint32_t)));
    require(!negated && (m.value & ~m.mask) == 0);
    (ct ? e_.ctmark : e_.mark) = m;
  }

  // `immediate reg value` then the store: `meta mark set 0x10`, `ct mark set 0x10`.
  void mark_set_immediate() {
    const nftnl_expr* imm = next("immediate");
    require(u32(imm, NFTNL_EXPR_IMM_DREG) == kReg && !nftnl_expr_is_set(imm, NFTNL_EXPR_IMM_VERDICT));
    MarkSet m;
    m.to.value = u32_of(bytes(imm, NFTNL_EXPR_IMM_DATA));
    auto store = mark_store();
    require(store.has_value());
    put_set(*store, m);
  }

  // `ct load state`, `bitwise (reg & bits) ^ 0`, `cmp neq 0`.
  void ctstate_match() {
    const nftnl_expr* load = next("ct");
    require(u32(load, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE && u32(load, NFTNL_EXPR_CT_DREG) == kReg);
    advance(Slot::CtState);
    const auto bw = bitwise32();
    require(bw && bw->second == 0 && bw->first != 0 && (bw->first & ~kCtStates) == 0);
    bool negated = false;
    require(u32_of(compare(negated, sizeof(uint32_t))) == 0 && negated);
    e_.ctstate = bw->first;
  }

  void meta_match() {
    const nftnl_expr* m = next("meta");
    require(u32(m, NFTNL_EXPR_META_DREG) == kReg && !nftnl_expr_is_set(m, NFTNL_EXPR_META_SREG));
    const uint32_t key = u32(m, NFTNL_EXPR_META_KEY);
    bool negated = false;
    if (key == NFT_META_NFPROTO) {
      advance(Slot::Nfproto);
      Bytes b = compare(negated, 1);
      require(!negated && (b.data[0] == nfproto(Family::V4) || b.data[0] == nfproto(Family::V6)));
      family(b.data[0] == nfproto(Family::V4) ? Family::V4 : Family::V6);
      nfproto_seen_ = true;
      return;
    }
    require(key == NFT_META_IIFNAME || key == NFT_META_OIFNAME);
    advance(key == NFT_META_IIFNAME ? Slot::Iif : Slot::Oif);
    Bytes b = compare(negated, kIfnameLen);
    const size_t len = strnlen(reinterpret_cast<const char*>(b.data), kIfnameLen);
    // A name that fills all 16 bytes (no NUL) or has bytes after its NUL is not what we write.
    require(len > 0 && len < kIfnameLen && all_zero(b.data + len, kIfnameLen - len));
    std::string name(reinterpret_cast<const char*>(b.data), len);
    (key == NFT_META_IIFNAME ? e_.iif : e_.oif) = name;
    (key == NFT_META_IIFNAME ? e_.iif_not : e_.oif_not) = negated;
  }

  void address_match() {
    const nftnl_expr* p = next("payload");
    require(u32(p, NFTNL_EXPR_PAYLOAD_DREG) == kReg && !nftnl_expr_is_set(p, NFTNL_EXPR_PAYLOAD_SREG));
    require(u32(p, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_NETWORK_HEADER);
    const uint32_t offset = u32(p, NFTNL_EXPR_PAYLOAD_OFFSET);
    const uint32_t load = u32(p, NFTNL_EXPR_PAYLOAD_LEN);
    // The payload is only meaningful behind the nfproto dependency that names its family.
    require(nfproto_seen_);
    const Family f = e_.family;
    const bool source = offset == addr_offset(f, true);
    require(source || offset == addr_offset(f, false));
    advance(source ? Slot::Saddr : Slot::Daddr);
    const uint32_t full = addr_len(f);
    require(load >= 1 && load <= full);

    IpPrefix prefix;
    prefix.addr.family = f;
    bool negated = false;
    if (at_ < x_.size() && name_of(x_[at_]) == "bitwise") {
      // A masked prefix: the whole address, a contiguous mask that is not byte-aligned (or /0), no xor.
      const nftnl_expr* b = next("bitwise");
      require(load == full && u32(b, NFTNL_EXPR_BITWISE_SREG) == kReg && u32(b, NFTNL_EXPR_BITWISE_DREG) == kReg);
      require(u32(b, NFTNL_EXPR_BITWISE_LEN) == full);
      absent_or(b, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
      require(!nftnl_expr_is_set(b, NFTNL_EXPR_BITWISE_DATA));
      Bytes mask = bytes(b, NFTNL_EXPR_BITWISE_MASK);
      Bytes xr = bytes(b, NFTNL_EXPR_BITWISE_XOR);
      require(mask.len == full && xr.len == full && all_zero(xr.data, full));
      unsigned len = 0;
      while (len < full * 8 && (mask.data[len / 8] & (0x80 >> (len % 8)))) ++len;
      IpPrefix expect{};
      expect.addr.family = f;
      for (unsigned bit = 0; bit < len; ++bit) expect.addr.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
      require(std::memcmp(expect.addr.bytes.data(), mask.data, full) == 0);  // contiguous
      require(len % 8 != 0 || len == 0);
      Bytes value = compare(negated, full);
      std::memcpy(prefix.addr.bytes.data(), value.data, full);
      prefix.len = static_cast<uint8_t>(len);
      require(prefix.network() == prefix);  // host bits set would never match
    } else {
      Bytes value = compare(negated, load);
      std::memcpy(prefix.addr.bytes.data(), value.data, load);
      prefix.len = static_cast<uint8_t>(load * 8);
    }
    (source ? e_.saddr : e_.daddr) = prefix;
    (source ? e_.saddr_not : e_.daddr_not) = negated;
  }

  void action() {
    advance(Slot::Action);
    const std::string name = name_of(x_[at_]);
    if (name == "immediate" && nftnl_expr_is_set(x_[at_], NFTNL_EXPR_IMM_VERDICT)) {
      const nftnl_expr* v = next("immediate");
      require(u32(v, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT && !nftnl_expr_is_set(v, NFTNL_EXPR_IMM_CHAIN) &&
              !nftnl_expr_is_set(v, NFTNL_EXPR_IMM_DATA));
      const uint32_t verdict = u32(v, NFTNL_EXPR_IMM_VERDICT);
      require(verdict == NF_ACCEPT || verdict == NF_DROP);
      e_.action = verdict == NF_ACCEPT ? NatAction::Accept : NatAction::Drop;
      return;
    }
    if (name == "masq") {
      const nftnl_expr* m = next("masq");
      absent_or(m, NFTNL_EXPR_MASQ_FLAGS, 0);
      require(!nftnl_expr_is_set(m, NFTNL_EXPR_MASQ_REG_PROTO_MIN) &&
              !nftnl_expr_is_set(m, NFTNL_EXPR_MASQ_REG_PROTO_MAX));
      e_.action = NatAction::Masquerade;
      return;
    }
    const nftnl_expr* imm = next("immediate");
    require(u32(imm, NFTNL_EXPR_IMM_DREG) == kReg && !nftnl_expr_is_set(imm, NFTNL_EXPR_IMM_VERDICT));
    Bytes target = bytes(imm, NFTNL_EXPR_IMM_DATA);
    const nftnl_expr* nat = next("nat");
    const uint32_t type = u32(nat, NFTNL_EXPR_NAT_TYPE);
    require(type == NFT_NAT_SNAT || type == NFT_NAT_DNAT);
    const uint32_t fam = u32(nat, NFTNL_EXPR_NAT_FAMILY);
    require(fam == nfproto(Family::V4) || fam == nfproto(Family::V6));
    family(fam == nfproto(Family::V4) ? Family::V4 : Family::V6);
    require(u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN) == kReg);
    // The kernel reports the range's end as the same register and the address flag it sets itself.
    absent_or(nat, NFTNL_EXPR_NAT_REG_ADDR_MAX, kReg);
    if (nftnl_expr_is_set(nat, NFTNL_EXPR_NAT_FLAGS)) {
      const uint32_t flags = nftnl_expr_get_u32(nat, NFTNL_EXPR_NAT_FLAGS);
      require((flags & ~uint32_t{NF_NAT_RANGE_MAP_IPS}) == 0);
    }
    require(!nftnl_expr_is_set(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN) &&
            !nftnl_expr_is_set(nat, NFTNL_EXPR_NAT_REG_PROTO_MAX));
    require(target.len == addr_len(e_.family));
    IpAddress to;
    to.family = e_.family;
    std::memcpy(to.bytes.data(), target.data, target.len);
    e_.action = type == NFT_NAT_SNAT ? NatAction::Snat : NatAction::Dnat;
    e_.to = to;
  }

  std::vector<const nftnl_expr*> x_;
  size_t at_{0};
  Slot slot_{Slot::Nfproto};
  bool first_{true};
  bool family_set_{false};
  bool nfproto_seen_{false};
  NatEntry e_;
  std::string chain_;
};

// libnftnl's own rendering of the expressions ("[ payload load 4b @ network header + 12 => reg 1 ] ..."),
// for an undecodable rule: deterministic, so the same rule renders the same way in observe() and apply().
std::string render(const nftnl_rule& r) {
  std::string out;
  std::array<char, 512> buf{};
  for (const nftnl_expr* x : expressions(r)) {
    nftnl_expr_snprintf(buf.data(), buf.size(), x, NFTNL_OUTPUT_DEFAULT, 0);
    out += "[ " + name_of(x) + " " + buf.data() + "]";
  }
  return out.empty() ? "[ ]" : out;
}

int comment_cb(const nftnl_udata* attr, void* data) {
  if (nftnl_udata_type(attr) != NFTNL_UDATA_RULE_COMMENT) return 0;
  const uint8_t len = nftnl_udata_len(attr);
  const char* value = static_cast<const char*>(nftnl_udata_get(attr));
  // nft stores the comment with its NUL.
  if (len == 0 || value[len - 1] != '\0') return 0;
  *static_cast<std::string*>(data) = std::string(value, len - 1);
  return 0;
}

}  // namespace

std::optional<std::string> owner_of_userdata(const void* data, uint32_t len) {
  std::string comment;
  if (!data || nftnl_udata_parse(data, len, comment_cb, &comment) < 0) return std::nullopt;
  if (!comment.starts_with(kOwnerPrefix)) return std::nullopt;
  return comment.substr(kOwnerPrefix.size());
}

std::optional<std::string> rule_owner(const nftnl_rule& r) {
  if (!nftnl_rule_is_set(&r, NFTNL_RULE_USERDATA)) return std::nullopt;
  uint32_t len = 0;
  const void* data = nftnl_rule_get_data(&r, NFTNL_RULE_USERDATA, &len);
  return owner_of_userdata(data, len);
}

NatEntry decode_rule(const nftnl_rule& r, const std::string& scope, const std::string& owner) {
  NatEntry e;
  try {
    e = Decoder(r).decode();
  } catch (const Undecodable&) {
    e = NatEntry{};
    e.iif = "?" + render(r);
  }
  e.scope = scope;
  e.owner = owner;
  return e;
}

}  // namespace topo::nft
