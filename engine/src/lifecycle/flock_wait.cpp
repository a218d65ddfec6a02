#include "lifecycle/flock_wait.h"

#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "topo/error.h"

namespace topo {

namespace {

long timeout_ms() {
  const char* env = std::getenv("TOPOCNI_LOCK_TIMEOUT_MS");
  return env && *env ? std::max(0L, std::atol(env)) : 30'000L;
}

long now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1'000'000L;
}

}  // namespace

void flock_exclusive(int fd, const std::string& name, const std::string& path) {
  const long timeout = timeout_ms();
  const long deadline = now_ms() + timeout;
  for (useconds_t pause = 50; ::flock(fd, LOCK_EX | LOCK_NB) != 0; pause = std::min<useconds_t>(pause * 2, 2000)) {
    if (errno != EWOULDBLOCK && errno != EINTR) throw SystemError(errno, "lock " + path);
    if (now_ms() > deadline) throw BusyError(fmt::format("the {} {} stayed busy for {} ms", name, path, timeout));
    ::usleep(pause);
  }
}

}  // namespace topo
