#include "nft/rule_decode.h"

#include <optional>

namespace topo::nft {

namespace {

using nlohmann::json;

// Thrown (and caught below) when a rule is not of the shape rule_text() writes.
struct Undecodable {};

void require(bool ok) {
  if (!ok) throw Undecodable{};
}

// Every source of family information in a rule must agree.
void set_family(std::optional<Family>& family, Family f) {
  require(!family || *family == f);
  family = f;
}

Family protocol_family(const std::string& proto) {
  if (proto == "ip") return Family::V4;
  require(proto == "ip6");
  return Family::V6;
}

IpAddress address(const json& j, Family family) {
  auto a = IpAddress::parse(j.get<std::string>());
  require(a && a->family == family);
  return *a;
}

// nft lists a prefix match as {"prefix": {"addr", "len"}} and a full-length one as a bare address string.
IpPrefix prefix(const json& j, Family family) {
  if (j.is_string()) return IpPrefix::host(address(j, family));
  require(j.is_object() && j.size() == 1 && j.contains("prefix"));
  const json& p = j.at("prefix");
  require(p.size() == 2);
  IpAddress a = address(p.at("addr"), family);
  unsigned len = p.at("len").get<unsigned>();
  require(len < a.max_prefix());
  IpPrefix result{a, static_cast<uint8_t>(len)};
  require(result.network() == result);
  return result;
}

class Decoder {
 public:
  NatEntry decode(const json& expr) {
    require(expr.is_array() && !expr.empty());
    for (size_t i = 0; i + 1 < expr.size(); ++i) match(expr[i]);
    statement(expr.back());
    // rule_text() writes nfproto exactly when the rule would otherwise be family-less.
    bool family_less = e_.action == NatAction::Masquerade && !e_.saddr && !e_.daddr;
    require(nfproto_ == family_less);
    require(family_.has_value());
    e_.family = *family_;
    return e_;
  }

 private:
  void match(const json& item) {
    require(item.is_object() && item.size() == 1 && item.contains("match"));
    const json& m = item.at("match");
    require(m.size() == 3);
    const std::string op = m.at("op").get<std::string>();
    require(op == "==" || op == "!=");
    const bool negated = op == "!=";
    const json& left = m.at("left");
    const json& right = m.at("right");
    require(left.is_object() && left.size() == 1);
    if (left.contains("meta")) {
      require(left.at("meta").size() == 1);
      const std::string key = left.at("meta").at("key").get<std::string>();
      if (key == "nfproto") {
        require(!nfproto_ && !negated);
        const std::string v = right.get<std::string>();
        require(v == "ipv4" || v == "ipv6");
        set_family(family_, v == "ipv4" ? Family::V4 : Family::V6);
        nfproto_ = true;
      } else if (key == "iifname" || key == "oifname") {
        std::string& name = key == "iifname" ? e_.iif : e_.oif;
        require(name.empty());
        name = right.get<std::string>();
        require(!name.empty());
        (key == "iifname" ? e_.iif_not : e_.oif_not) = negated;
      } else {
        throw Undecodable{};
      }
    } else if (left.contains("payload")) {
      const json& p = left.at("payload");
      require(p.size() == 2);
      const Family f = protocol_family(p.at("protocol").get<std::string>());
      set_family(family_, f);
      const std::string field = p.at("field").get<std::string>();
      require(field == "saddr" || field == "daddr");
      std::optional<IpPrefix>& slot = field == "saddr" ? e_.saddr : e_.daddr;
      require(!slot);
      slot = prefix(right, f);
      (field == "saddr" ? e_.saddr_not : e_.daddr_not) = negated;
    } else {
      throw Undecodable{};
    }
  }

  void statement(const json& item) {
    require(item.is_object() && item.size() == 1);
    if (item.contains("masquerade")) {
      // Flags or ports would show up as an object here.
      require(item.at("masquerade").is_null());
      e_.action = NatAction::Masquerade;
      return;
    }
    const bool snat = item.contains("snat");
    require(snat || item.contains("dnat"));
    const json& nat = item.at(snat ? "snat" : "dnat");
    require(nat.is_object() && nat.size() == 2);
    const Family f = protocol_family(nat.at("family").get<std::string>());
    set_family(family_, f);
    e_.action = snat ? NatAction::Snat : NatAction::Dnat;
    e_.to = address(nat.at("addr"), f);
  }

  NatEntry e_;
  std::optional<Family> family_;
  bool nfproto_{false};
};

}  // namespace

NatEntry decode_rule(const json& expr, const std::string& scope, const std::string& owner) {
  NatEntry e;
  try {
    e = Decoder{}.decode(expr);
  } catch (const Undecodable&) {
    e = NatEntry{};
    e.iif = "?" + expr.dump();
  } catch (const json::exception&) {
    e = NatEntry{};
    e.iif = "?" + expr.dump();
  }
  e.scope = scope;
  e.owner = owner;
  return e;
}

}  // namespace topo::nft
