// The NAT kind's kernel I/O: our own table only (kernel/nft/nat_table), listed by owner comment, and one
// nftables transaction (all or nothing) per run of changes.
#include <map>
#include <set>

#include "kernel/kernel_context.h"
#include "kernel/nft/nat_table.h"
#include "kinds/nat/nat_ops.h"
#include "topo/netns.h"

namespace topo {

void KindOps<NatEntry>::observe(KernelContext& k, const std::vector<NatEntry>& interest, std::vector<NatEntry>& out) {
  std::map<std::string, std::set<std::string>> owners;
  for (const NatEntry& n : interest)
    if (k.has_scope(n.scope)) owners[n.scope].insert(n.owner);
  for (const auto& [scope, set] : owners) {
    NetnsGuard in = k.namespaces.enter(scope);
    auto found = nft::observe(k.nft_context(scope), scope, set);
    out.insert(out.end(), found.begin(), found.end());
  }
}

void KindOps<NatEntry>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                                Progress& p) {
  for (size_t i = begin; i < end; ++i) p.attempt(i, changes[i]);  // a hook may stop the run before the commit
  const std::string& scope = scope_of(changes[begin].object);
  NetnsGuard in = k.namespaces.enter(scope);
  std::vector<Change> group(changes.begin() + static_cast<std::ptrdiff_t>(begin),
                            changes.begin() + static_cast<std::ptrdiff_t>(end));
  p.failed_at(begin);  // a failed transaction changed nothing: report it at its first change
  nft::apply(k.nft_context(scope), group);
  for (size_t i = begin; i < end; ++i) p.took_effect(i);
}

// A transaction is all or nothing and deletes rules by handle found in the same listing: nothing is "gone".
bool KindOps<NatEntry>::already_gone(const Change&, int) { return false; }

}  // namespace topo
