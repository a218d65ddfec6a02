// Kernel::observe: each kind's unit reads what `interest` names of that kind, with filtered reads only (one
// link by name, one interface's addresses, one table [and interface] of routes, one family of rules, named
// sysctl files, our own nftables table), so the cost follows the spec, not the size of the machine's state.
#include <map>

#include "kernel/kernel_context.h"
#include "kinds/registry.h"

namespace topo {

State Kernel::observe(const State& interest) {
  KernelContext& k = *impl_;
  State out;
  AllKinds::each([&]<class K>() {
    if (!interest.of<K>().empty()) KindOps<K>::observe(k, interest.of<K>(), out.of<K>());
  });
  return out;
}

}  // namespace topo
