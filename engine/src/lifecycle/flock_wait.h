// Waiting for an exclusive flock(2) the way every topocni lock does (the journal's, each namespace's nftables
// table lock). Holders keep a lock for milliseconds; one still held after TOPOCNI_LOCK_TIMEOUT_MS (30 s by
// default) is stuck, and the runtime's own timeout is near: answer "try again later" (BusyError, CNI code 11)
// rather than block past its patience.
#pragma once

#include <string>

namespace topo {

// Returns once `fd` holds LOCK_EX, polling from 50 µs, doubling to 2 ms. Past the deadline throws BusyError
// ("the <name> <path> stayed busy for N ms"); on any other failure SystemError ("lock <path>"). `fd` stays
// the caller's to close, also when this throws.
void flock_exclusive(int fd, const std::string& name, const std::string& path);

}  // namespace topo
