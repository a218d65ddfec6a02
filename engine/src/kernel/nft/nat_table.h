// topocni's own nftables table, "inet topocni", spoken to directly over nfnetlink (libnftnl + libmnl): only
// our table is ever listed, so the cost does not grow with other tables (a kube-proxy ruleset of thousands of
// rules). Must be used while inside the target network namespace (the Context opens its socket there).
//
// Layout (created on first use, deleted with its chains when its last rule goes):
//   table inet topocni {
//     chain postrouting { type nat hook postrouting priority srcnat; }   # masquerade, snat
//     chain prerouting  { type nat hook prerouting priority dstnat; }    # dnat
//   }
// Every rule carries the comment "topocni:<owner>" so rules of different attachments never mix.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "topo/model/nat.h"
#include "topo/plan.h"

namespace topo::nft {

inline constexpr const char* kTable = "topocni";

// Rules of ours whose owner is in `owners`, decoded back into NatEntry values (scope set to `scope`). A rule
// with our comment that cannot be decoded is returned with its expression in `NatEntry::iif` prefixed by
// "?"; it then never equals a desired entry, so a diff replaces it.
std::vector<NatEntry> observe(const std::string& scope, const std::set<std::string>& owners);

// Applies Create/Delete/Replace changes of NatEntry objects in ONE nftables transaction (all or nothing):
// adds the table and chains when missing, deletes rules by handle, and deletes the table when no rule of
// anyone is left in it. Throws SystemError with the kernel's errno and extended ACK text, naming the request.
void apply(const std::vector<Change>& changes);

class Context;

// The same two operations on a context the caller keeps (created inside the namespace). A kept context keeps
// its netlink socket open until the caller is done with the namespace: closing an nfnetlink socket waits for
// nf_tables' pending release work (an RCU grace period, ~10 ms) if a commit left any, so a socket closed right
// after its commit makes the caller wait for it, while one closed later finds the work long done.
std::vector<NatEntry> observe(Context& ctx, const std::string& scope, const std::set<std::string>& owners);
void apply(Context& ctx, const std::vector<Change>& changes);

// The nft syntax of one entry's rule, for display and error messages (what `nft list table inet topocni`
// shows for the rule apply() creates), e.g. `iifname "veth0" oifname "eth0" masquerade comment "topocni:..."`.
std::string rule_text(const NatEntry& e);

// ct state bits (topo/model/nat.h kCt*) as nft lists them: "established,related".
std::string ctstate_text(uint32_t bits);

}  // namespace topo::nft
