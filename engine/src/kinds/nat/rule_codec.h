// NatEntry ⇄ libnftnl rule: the expressions nft(8) generates for rule_text(e), and their exact inverse.
// Pure (no kernel): tests round-trip every form through nftnl_rule objects.
#pragma once

#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <libnftnl/rule.h>

#include <memory>
#include <optional>
#include <string>

#include "topo/model/nat.h"

namespace topo::nft {

struct RuleDeleter {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using RulePtr = std::unique_ptr<nftnl_rule, RuleDeleter>;

// The rule for `e` in its chain of table inet topocni, with the comment "topocni:<owner>" as userdata, the
// way nft(8) builds `add rule inet topocni <chain> <rule_text(e)>`:
//   * an ip/ip6 address match loads the address from the network header behind a `meta nfproto` dependency
//     (the table is inet); a byte-aligned prefix loads only its bytes, any other prefix (and /0) loads the
//     whole address and masks it with a bitwise;
//   * iifname/oifname compare IFNAMSIZ (16) bytes, NUL-padded;
//   * snat/dnat load the target into a register with an immediate; masquerade takes nothing.
// Throws SystemError(EINVAL or ENAMETOOLONG) naming the rule when the entry cannot be written (a target or a
// prefix of the other family, an interface name longer than 15 bytes, a masquerade with a target).
RulePtr encode_rule(const NatEntry& e);

// The owner in a rule's "topocni:<owner>" comment (NFTNL_UDATA_RULE_COMMENT); nullopt when the rule has no
// such comment, i.e. is not ours.
std::optional<std::string> rule_owner(const nftnl_rule& r);
// The same from a rule's raw NFTA_RULE_USERDATA (listing reads it without parsing the whole rule).
std::optional<std::string> owner_of_userdata(const void* data, uint32_t len);

// The exact inverse of encode_rule() for the rule's expressions. Anything encode_rule() cannot have produced
// (other expressions, another order, ports, flags, sets, ranges, a family-less masquerade, mixed families) is
// "undecodable": the result then has iif = "?" + a rendering of the expressions, so it never equals a
// desired entry and a diff replaces it. `scope` and `owner` are copied into the result.
NatEntry decode_rule(const nftnl_rule& r, const std::string& scope, const std::string& owner);

}  // namespace topo::nft
