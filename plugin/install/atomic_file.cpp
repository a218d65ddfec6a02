// Atomic replacement of installed files: temporary name, fsync, rename, fsync of the directory.
#include "install/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "install/install_error.h"

namespace topo::install {

namespace {

namespace fs = std::filesystem;

// Ours, recognisable (remove_stale_temporaries), hidden from a listing, and never a name a runtime uses: it
// ends in the pid, not in .conf, .conflist or .json (libcni loads only those from the config dir), and no
// config's `type` names a dot file in the bin dir.
constexpr std::string_view kTempMarker = ".topocni-tmp.";

fs::path temporary_for(const fs::path& path) {
  return path.parent_path() / fmt::format(".{}{}{}", path.filename().string(), kTempMarker, getpid());
}

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
  throw InstallError(fmt::format("{} {}: {}", what, path.string(), std::strerror(err)));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

void sync_directory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) fail("fsync directory", dir, errno);
}

void write_all(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", path, errno);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Creates the temporary file, lets `fill` write it, fsyncs it and renames it over `path`. Any failure
// removes the temporary and leaves `path` as it was.
template <typename Fill>
void replace(const fs::path& path, mode_t mode, Fill fill) {
  fs::path tmp = temporary_for(path);
  ::unlink(tmp.c_str());  // a leftover of a killed run with our pid
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) fail("create", tmp, errno);
  try {
    fill(fd.get(), tmp);
    // The mode is set on the descriptor, not by open(), so the umask does not change it.
    if (::fchmod(fd.get(), mode) != 0) fail("chmod", tmp, errno);
    if (::fsync(fd.get()) != 0) fail("fsync", tmp, errno);
    if (::close(fd.release()) != 0) fail("close", tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename into place", path, errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_directory(path.parent_path());
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view content, mode_t mode) {
  replace(path, mode,
          [&](int fd, const fs::path& tmp) { write_all(fd, content.data(), content.size(), tmp); });
}

void copy_file_atomically(const fs::path& from, const fs::path& path, mode_t mode) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) fail("open", from, errno);
  replace(path, mode, [&](int out, const fs::path& tmp) {
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("read", from, errno);
      if (n == 0) break;
      write_all(out, buf.data(), static_cast<size_t>(n), tmp);
    }
  });
}

void symlink_atomically(const std::string& target, const fs::path& path) {
  fs::path tmp = temporary_for(path);
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) fail("symlink", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("rename into place", path, err);
  }
  sync_directory(path.parent_path());
}

bool remove_synced(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    fail("remove", path, errno);
  }
  sync_directory(path.parent_path());
  return true;
}

void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.starts_with('.') && name.find(kTempMarker) != std::string::npos) ::unlink(e.path().c_str());
  }
}

}  // namespace topo::install
