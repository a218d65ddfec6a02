// Test-only fault injection, so tests can prove rollback and crash safety step by step. Read from the
// environment once, by the programs' main()s; production runs install no hook and pay nothing per change.
//   TOPOCNI_TEST_FAIL_AT=N  the N-th kernel change of the process fails (NetlinkError EIO, "injected failure")
//                           before it takes effect;
//   TOPOCNI_TEST_KILL_AT=N  the process is killed (SIGKILL, no cleanup of any kind) before its N-th change.
#pragma once

#include "topo/plan.h"

namespace topo {

// The hook the environment asks for; an empty function when it asks for none.
Progress::Hook fault_injection_from_environment();

}  // namespace topo
