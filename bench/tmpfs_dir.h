// A benchmark's work dir: /run/topocni-bench-<pid>-XXXXXX with a tmpfs of its own mounted on it, unmounted
// and removed again by the destructor. Every state dir a run makes (topocni's, host-local's for both sides)
// lives there, as /run is a tmpfs on a node (topocni's default state dir is /run/topocni): on a machine whose
// /run is a disk, each ADD would also measure that file system's creates and renames (ext4: about 0.5 ms of
// CPU per ADD on the benchmark's VM). The pid in the name lets bench/run.sh find the mount of a run that was
// killed hard.
#pragma once

#include <string>

namespace bench {

class TmpfsDir {
 public:
  TmpfsDir();  // throws std::runtime_error when the dir cannot be made or mounted
  ~TmpfsDir();
  TmpfsDir(const TmpfsDir&) = delete;
  TmpfsDir& operator=(const TmpfsDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool mounted_{false};
};

}  // namespace bench
