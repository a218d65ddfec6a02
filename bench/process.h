// Running programs the way a CNI runtime does: spawned in the caller's network namespace, config on stdin,
// CNI_* in the environment, stdout captured, the wall time of the whole call, the child's CPU time and its peak RSS measured.
#pragma once

#include <string>
#include <vector>

namespace bench {

struct CallResult {
  int status{-1};        // exit status; -1 when killed by a signal
  double ms{0};          // wall time from spawn to reaped (what a runtime waits for)
  double cpu_ms{0};      // user + system CPU time of the child (wait4): the plugin's own work, without the
                         // waits (RCU grace periods, scheduling) that make wall times noisy
  long maxrss_kb{0};     // ru_maxrss of the child (wait4)
  std::string out, err;  // stdout, stderr
};

// Spawns `exe` with exactly `env` (plus nothing inherited), writes `input` to its stdin, reads its stdout to
// the end and reaps it. posix_spawn (vfork underneath) keeps the runtime side of the cost as small as a
// runtime's own fork/exec.
CallResult call(const std::string& exe, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& input);

// Runs a setup command (never timed); throws std::runtime_error with its output when it fails.
std::string must(const std::vector<std::string>& argv, const std::string& input = "");

// Monotonic milliseconds.
double now_ms();

}  // namespace bench
