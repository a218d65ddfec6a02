// Kernel::execute: the changes in order, each run of consecutive changes of one kind in one scope handed to
// that kind's unit, which reports into `progress` what took effect (see Progress in topo/plan.h). Undoing is
// not done here: plan/executor.cpp is the one place that undoes or keeps going.
#include <array>

#include "kernel/kernel_context.h"
#include "kinds/registry.h"

namespace topo {

namespace {

template <class K>
void execute_run(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p) {
  KindOps<K>::execute(k, changes, begin, end, p);
}

using Runner = void (*)(KernelContext&, const std::vector<Change>&, size_t, size_t, Progress&);

// One runner per alternative of Object, in the same order.
template <class... K>
constexpr auto runners(KindList<K...>) {
  return std::array<Runner, sizeof...(K)>{&execute_run<K>...};
}

}  // namespace

void Kernel::execute(const std::vector<Change>& changes, Progress& progress) {
  static constexpr auto kRunners = runners(AllKinds{});
  progress.use_hook(&impl_->before_change);
  size_t i = 0;
  while (i < changes.size()) {
    const Object& o = changes[i].object;
    size_t j = i + 1;
    while (j < changes.size() && changes[j].object.index() == o.index() &&
           scope_of(changes[j].object) == scope_of(o))
      ++j;
    kRunners[o.index()](*impl_, changes, i, j, progress);
    i = j;
  }
}

void Kernel::set_change_hook(Progress::Hook hook) { impl_->before_change = std::move(hook); }

}  // namespace topo
