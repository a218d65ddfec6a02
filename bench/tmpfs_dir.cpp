#include "tmpfs_dir.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace bench {

TmpfsDir::TmpfsDir() {
  std::string name = "/run/topocni-bench-" + std::to_string(getpid()) + "-XXXXXX";
  if (!mkdtemp(name.data())) throw std::runtime_error("mkdtemp " + name + ": " + std::strerror(errno));
  path_ = name;
  if (mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0) {
    std::string why = std::strerror(errno);
    std::filesystem::remove(path_);
    throw std::runtime_error("mount a tmpfs on " + path_ + ": " + why);
  }
  mounted_ = true;
}

TmpfsDir::~TmpfsDir() {
  if (mounted_ && umount2(path_.c_str(), MNT_DETACH) != 0)
    std::fprintf(stderr, "bench: umount %s: %s\n", path_.c_str(), std::strerror(errno));
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace bench
