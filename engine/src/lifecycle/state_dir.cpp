#include "topo/state_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "kernel/fd_read.h"
#include "topo/journal.h"

namespace topo {

namespace {

// Why `st` (of `path`) is not a directory topocni may keep its state in; empty when it may.
std::string unsafe_dir(const struct stat& st, const std::string& path) {
  if (!S_ISDIR(st.st_mode)) return fmt::format("{} is not a directory", path);
  if (st.st_uid != ::geteuid())
    return fmt::format("{} is owned by uid {}, not by uid {} that topocni runs as", path, st.st_uid,
                       ::geteuid());
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fmt::format(
        "{} has mode {:04o}: others can write to it (topocni keeps its locks and journals there; "
        "make it 0700 or remove it)",
        path, st.st_mode & 07777);
  return "";
}

}  // namespace

std::string state_dir_from_environment() {
  const char* env = std::getenv("TOPOCNI_STATE_DIR");
  return env && *env ? env : Journal::kDefaultDir;
}

void ensure_private_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) throw SystemError(errno, "stat state directory " + dir);
    std::filesystem::path parent = std::filesystem::path(dir).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) throw SystemError(ec.value(), "create the parents of state directory " + dir);
    // 0700 from the start (mkdir's mode is masked by the umask, which can only take bits away).
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw SystemError(errno, "create state directory " + dir);
    if (::stat(dir.c_str(), &st) != 0) throw SystemError(errno, "stat state directory " + dir);
  }
  if (std::string why = unsafe_dir(st, dir); !why.empty())
    throw StateDirError("refusing state directory (TOPOCNI_STATE_DIR): " + why);
}

void ensure_private_subdir(const std::string& parent, const std::string& name) {
  const std::string path = parent + "/" + name;
  struct stat st {};
  // A network's directory goes with its last journal, without a lock (Journal::remove): it may vanish
  // between our mkdir and lstat; then it is made again.
  for (int attempt = 0;; ++attempt) {
    if (::mkdir(path.c_str(), 0700) == 0) return;
    if (errno != EEXIST) throw SystemError(errno, "create " + path);
    if (::lstat(path.c_str(), &st) == 0) break;
    if (errno != ENOENT || attempt == 100) throw SystemError(errno, "stat " + path);
  }
  if (S_ISLNK(st.st_mode))
    throw StateDirError(fmt::format("refusing {}: a symlink, not a directory topocni made", path));
  if (std::string why = unsafe_dir(st, path); !why.empty()) throw StateDirError("refusing " + why);
}

int open_private_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
  if (fd < 0) return -1;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw SystemError(err, "stat " + path);
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd);
    throw StateDirError(fmt::format("refusing {}: not a regular file owned by uid {}", path, ::geteuid()));
  }
  return fd;
}

void throw_open_error(int err, const std::string& what, const std::string& path) {
  if (err == ELOOP) throw StateDirError(fmt::format("refusing {}: a symlink, not a file topocni made", path));
  throw SystemError(err, what + " " + path);
}

std::optional<std::string> read_private_file(const std::string& path) {
  int fd = open_private_file(path, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_open_error(errno, "open", path);
  }
  std::string text;
  try {
    text = read_to_end(fd, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return text;
}

void write_all_to(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(errno, "write " + path);
    off += static_cast<size_t>(n);
  }
}

void write_and_rename(int fd, const std::string& tmp, const std::string& path, const std::string& data) {
  try {
    write_all_to(fd, data, tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw SystemError(err, "rename into place " + path);
  }
}

void replace_private_file(const std::string& path, const std::string& data) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  ::unlink(tmp.c_str());  // a file of a killed run with our pid is stale: replaced, never written through
  int fd = open_private_file(tmp, O_WRONLY | O_CREAT | O_EXCL);
  if (fd < 0) throw_open_error(errno, "create", tmp);
  write_and_rename(fd, tmp, path, data);
}

}  // namespace topo
