// Whole-namespace reads for node diagnostics (`topoctl doctor`): every link, every route and rule carrying
// topocni's protocol, and the nftables ruleset's conntrack-INVALID drops and masquerades. Unlike Kernel::observe
// these scan everything, so they belong to diagnostics only, never to ADD/DEL. Each reads the namespace of the
// calling thread (enter another one with NetnsGuard first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "topo/model/route.h"
#include "topo/model/rule.h"

namespace topo::scan {

struct LinkEntry {
  int ifindex{0};     // ifi_index
  std::string name;   // IFLA_IFNAME
  std::string kind;   // IFLA_INFO_KIND, "" for none
  std::string alias;  // IFLA_IFALIAS, "" for none
};
// Every link (RTM_GETLINK dump). Throws NetlinkError.
std::vector<LinkEntry> links();

// Routes (every table, both families; cache entries skipped) and rules (both families) whose rtm_protocol /
// FRA_PROTOCOL is kOwnerProtocol, decoded with scope "" and the route's device by name ("" if it has none).
struct Marked {
  std::vector<Route> routes;
  std::vector<Rule> rules;
};
Marked marked_routes_and_rules();

// One nftables rule, located as `nft -a list chain FAMILY TABLE CHAIN` shows it.
struct NftRuleRef {
  std::string family;  // "ip", "ip6", "inet", "arp", "bridge", "netdev"
  std::string table, chain;
  uint64_t handle{0};
  std::string how;  // what matched: "ct state" (native) or "xt match conntrack"/"xt match state" (iptables-nft)
};

struct NftChain {
  std::string family, table, name;
  std::optional<std::string> hook;  // "prerouting", "input", "forward", "output", "postrouting", "ingress", ...
                                    // for a base chain; nullopt for a regular chain (reached by jump/goto)
};

struct NftRuleset {
  std::vector<std::pair<std::string, std::string>> tables;  // family, name
  std::vector<NftChain> chains;
  // Rules whose match holds for a conntrack-INVALID packet and whose verdict is drop: native `ct state`
  // expressions evaluated with the INVALID state bit, and iptables-nft's compat `conntrack`/`state` matches
  // (`-m conntrack --ctstate INVALID -j DROP`), decoded from their xt info.
  std::vector<NftRuleRef> invalid_drops;
  // Rules that masquerade: native `masquerade`, or iptables-nft's `-j MASQUERADE` (xt target).
  std::vector<NftRuleRef> masquerades;
};
// Every table, chain and rule of every family (NFT_MSG_GET* dumps with NFPROTO_UNSPEC). Throws SystemError.
NftRuleset nft_ruleset();

}  // namespace topo::scan
