// RTM_*RULE requests and replies (struct fib_rule_hdr + FRA_* attributes).
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

#include "kernel/netlink/socket.h"
#include "topo/model/rule.h"

namespace topo::netlink {

struct RuleMsg {
  Rule rule;
  uint8_t protocol{0};  // FRA_PROTOCOL
  uint8_t action{0};    // fib_rule_hdr.action: FR_ACT_TO_TBL for a "lookup" rule
};

// Decodes as reported: a rule with a fwmark and no mask comes back with FRA_FWMASK 0xffffffff.
std::optional<RuleMsg> decode_rule(const nlmsghdr& nlh);

// The mask the kernel gives a rule: with FRA_FWMARK and no FRA_FWMASK it uses all ones (fib_nl2rule).
std::optional<uint32_t> effective_fwmask(const Rule& r);

// Body of RTM_NEWRULE / RTM_DELRULE: every selector, the table, and FRA_PROTOCOL = kOwnerProtocol. For a
// delete the protocol makes the kernel skip a rule of someone else with the same selectors (rule_find).
void encode_rule(Builder& b, const Rule& r);

// A dump of one family's rules. Strict checking allows no filter here (fib_valid_dumprule_req).
void encode_rule_dump(Builder& b, Family family);

}  // namespace topo::netlink
