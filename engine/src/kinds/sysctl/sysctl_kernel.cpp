// The sysctl kind's kernel I/O: /proc/sys/net files, read and written inside the scope's namespace
// (/proc/sys/net is the namespace of whoever opens the file).
#include <cerrno>
#include <map>

#include "kernel/kernel_context.h"
#include "kinds/sysctl/sysctl_ops.h"
#include "topo/error.h"
#include "topo/netns.h"

namespace topo {

void KindOps<Sysctl>::observe(KernelContext& k, const std::vector<Sysctl>& interest, std::vector<Sysctl>& out) {
  std::map<std::string, std::vector<const Sysctl*>> by_scope;
  for (const Sysctl& s : interest)
    if (k.has_scope(s.scope)) by_scope[s.scope].push_back(&s);
  for (const auto& [scope, list] : by_scope) {
    NetnsGuard in = k.namespaces.enter(scope);
    sysctl::Files& files = k.sysctls(scope);
    for (const Sysctl* s : list) {
      auto value = files.read(s->name);
      if (!value) continue;  // e.g. the interface is not there
      out.push_back(Sysctl{scope, s->name, *value, std::nullopt});
    }
  }
}

void KindOps<Sysctl>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                              Progress& p) {
  NetnsGuard in = k.namespaces.enter(scope_of(changes[begin].object));
  for (size_t i = begin; i < end; ++i) {
    const Change& c = changes[i];
    p.attempt(i, c);
    const Sysctl& s = std::get<Sysctl>(c.object);
    sysctl::Files& files = k.sysctls(s.scope);
    // A delete puts the journaled previous value back (a sysctl is never removed).
    if (c.action != Action::Delete)
      files.write(s.name, s.value);
    else if (s.previous)
      files.write(s.name, *s.previous);
    p.took_effect(i);
  }
}

// The file of a per-interface sysctl goes with its interface.
bool KindOps<Sysctl>::already_gone(const Change&, int err) { return err == ENOENT; }

}  // namespace topo
