// The one path that executes plans and undoes what a failure leaves (see topo/apply.h).
#include <array>
#include <cerrno>
#include <exception>

#include <fmt/format.h>

#include "kinds/registry.h"
#include "topo/apply.h"
#include "topo/error.h"

namespace topo {

namespace {

using GoneCheck = bool (*)(const Change&, int);

template <class... K>
constexpr auto gone_checks(KindList<K...>) {
  return std::array<GoneCheck, sizeof...(K)>{&KindOps<K>::already_gone...};
}

bool already_gone(const Change& c, int err) {
  static constexpr auto kChecks = gone_checks(AllKinds{});
  return kChecks[c.object.index()](c, err);
}

int error_number(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const NetlinkError& n) {
    return n.err;
  } catch (const SystemError& s) {
    return s.err;
  } catch (...) {
  }
  return 0;
}

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "unknown error";
}

}  // namespace

std::vector<std::string> apply_keep_going(const std::vector<Change>& changes, Kernel& kernel) {
  std::vector<std::string> failures;
  std::vector<Change> pending = changes;
  while (!pending.empty()) {
    Progress progress;
    try {
      kernel.execute(pending, progress);
      break;
    } catch (...) {
      auto error = std::current_exception();
      size_t failed = progress.current();
      if (!already_gone(pending[failed], error_number(error))) failures.push_back(message_of(error));
      // What is left: the changes after the failed one that have not taken effect (a batch may have carried
      // out some already).
      std::vector<bool> done(pending.size(), false);
      for (size_t i : progress.effected()) done[i] = true;
      std::vector<Change> rest;
      for (size_t i = failed + 1; i < pending.size(); ++i)
        if (!done[i]) rest.push_back(std::move(pending[i]));
      pending = std::move(rest);
    }
  }
  return failures;
}

void apply(const Plan& plan, Kernel& kernel) {
  Progress progress;
  try {
    kernel.execute(plan.changes, progress);
  } catch (const std::exception&) {
    // Undo exactly what took effect, newest first, so a failed ADD leaves nothing behind.
    std::vector<Change> undo;
    const auto& effected = progress.effected();
    for (size_t k = effected.size(); k-- > 0;) undo.push_back(inverse(plan.changes[effected[k]]));
    for (const std::string& f : apply_keep_going(undo, kernel))
      fmt::print(stderr, "topocni: rollback could not undo a change: {}\n", f);
    throw;
  }
}

}  // namespace topo
