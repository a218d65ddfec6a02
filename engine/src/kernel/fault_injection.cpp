#include "topo/fault_injection.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <memory>

#include "topo/error.h"

namespace topo {

namespace {

// 0 when unset or not a positive number.
unsigned long long env_number(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  return end && *end == '\0' ? n : 0;
}

}  // namespace

Progress::Hook fault_injection_from_environment() {
  unsigned long long fail_at = env_number("TOPOCNI_TEST_FAIL_AT");
  unsigned long long kill_at = env_number("TOPOCNI_TEST_KILL_AT");
  if (!fail_at && !kill_at) return {};
  // Counted across every execute() of the process, as the tests number the steps of one command.
  auto executed = std::make_shared<unsigned long long>(0);
  return [=](const Change& c) {
    ++*executed;
    if (kill_at && *executed == kill_at) ::raise(SIGKILL);
    if (fail_at && *executed == fail_at) throw NetlinkError(EIO, "injected failure", describe(c.object), "");
  };
}

}  // namespace topo
