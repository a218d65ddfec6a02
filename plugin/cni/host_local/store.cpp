#include "cni/host_local/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cni/cni.h"

namespace topo::cni::host_local {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLastReservedPrefix = "last_reserved_ip.";
// A claim being written (Store::reserve). Not an address, so host-local never takes it for an allocation.
constexpr const char* kClaimPrefix = ".claim-";
// An allocation file holds a container id and an interface name: a few hundred bytes. Longer files are
// read only this far (and cannot match); it bounds what a stray file in the directory costs.
constexpr size_t kMaxFileBytes = 64 * 1024;

[[noreturn]] void io_failure(const std::string& what, const std::string& path) {
  throw Error(kIoFailure, fmt::format("host-local: cannot {} {}", what, path), std::strerror(errno));
}

// Go's strings.TrimSpace for the ASCII whitespace host-local's files can hold.
std::string trimmed(std::string s) {
  const char* space = " \t\n\v\f\r";
  s.erase(s.find_last_not_of(space) + 1);
  s.erase(0, s.find_first_not_of(space) == std::string::npos ? s.size() : s.find_first_not_of(space));
  return s;
}

// The text of `name`, opened relative to `dir_fd` (or AT_FDCWD), at most kMaxFileBytes of it. Nothing when it
// cannot be opened or read (a directory, say), as Go's ReadFile failing makes host-local skip the file.
// `regular`: the directory listing says it is a regular file, whose short read is its end (no read to see
// the end again: a file per pod, on every ADD and DEL).
std::optional<std::string> read_small_file_at(int dir_fd, const char* name, bool regular = false) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  // Read through a small stack chunk: an allocation file is tens of bytes, and ADD and DEL read every file
  // of the network, so a zero-filled 64 KiB string per file was most of host-local's CPU time on a full node.
  std::string text;
  char chunk[512];
  bool failed = false;
  while (text.size() < kMaxFileBytes) {
    ssize_t n = ::read(fd, chunk, std::min(sizeof chunk, kMaxFileBytes - text.size()));
    if (n < 0 && errno == EINTR) continue;
    failed = n < 0;
    if (n <= 0) break;
    text.append(chunk, static_cast<size_t>(n));
    if (regular && static_cast<size_t>(n) < sizeof chunk) break;
  }
  ::close(fd);
  if (failed) return std::nullopt;
  return text;
}

std::optional<std::string> read_small_file(const std::string& path) { return read_small_file_at(AT_FDCWD, path.c_str()); }

// One file met by Store::each_file.
struct FileEntry {
  int dir_fd;        // the directory holding it, for unlinkat
  const char* name;  // its name in that directory
  bool top_level;    // directly in the network's directory
  std::string text;  // trimmed
};

// host-local never makes sub-directories; this bounds the recursion through ones somebody else made.
constexpr int kMaxWalkDepth = 16;

using Directory = std::unique_ptr<DIR, int (*)(DIR*)>;

// The directory `name` (relative to `at`, or AT_FDCWD) opened for listing; null when it cannot be.
// `extra_flags`: O_NOFOLLOW where a symlink must not lead the walk into another directory.
Directory open_directory(int at, const char* name, int extra_flags) {
  int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags);
  if (fd < 0) return {nullptr, ::closedir};
  Directory dir(::fdopendir(fd), ::closedir);
  if (!dir) ::close(fd);
  return dir;
}

// Every non-directory entry under `dir` (`depth` levels below the network's directory), depth first, as Go's
// filepath.Walk: a symlink is read through but never followed into a directory. Names are opened relative
// to the directory, one path step each, instead of resolving the whole path again for every file.
template <class Visit>
void walk_files(DIR* dir, int depth, Visit& visit) {
  int fd = ::dirfd(dir);
  while (const dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    bool directory = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {  // file systems that do not fill d_type
      struct stat st {};
      if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      directory = S_ISDIR(st.st_mode);
    }
    if (directory) {
      if (depth >= kMaxWalkDepth) continue;
      if (Directory sub = open_directory(fd, e->d_name, O_NOFOLLOW)) walk_files(sub.get(), depth + 1, visit);
      continue;
    }
    if (auto text = read_small_file_at(fd, e->d_name, e->d_type == DT_REG))
      visit(FileEntry{fd, e->d_name, depth == 0, trimmed(std::move(*text))});
  }
}

// Writes `text` to a new file (O_EXCL: false when it exists) or over `path` (truncating), mode 0644 as Go's.
bool write_file(const std::string& path, const std::string& text, bool exclusive) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (exclusive && errno == EEXIST) return false;
    io_failure("create", path);
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      if (exclusive) ::unlink(path.c_str());  // a half-written claim is no claim
      errno = saved;
      io_failure("write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    if (exclusive) ::unlink(path.c_str());
    io_failure("write", path);
  }
  return true;
}

// mkdir -p with host-local's mode.
void make_directories(const fs::path& dir) {
  fs::path at;
  for (const auto& part : dir) {
    at /= part;
    if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) io_failure("create the directory", at.string());
  }
}

}  // namespace

std::string allocation_text(const std::string& container_id, const std::string& ifname) {
  return trimmed(container_id) + "\r\n" + ifname;
}
std::string old_allocation_text(const std::string& container_id) { return trimmed(container_id); }

Store::Store(const std::string& data_dir, const std::string& network)
    : dir_((fs::path(data_dir.empty() ? kDefaultDataDir : data_dir) / network).lexically_normal().string()) {
  make_directories(dir_);
  std::string lock = dir_ + "/lock";
  lock_fd_ = ::open(lock.c_str(), O_CREAT | O_RDONLY | O_CLOEXEC, 0750);  // the mode host-local's file mutex gives it
  if (lock_fd_ < 0) io_failure("open the lock", lock);
  while (::flock(lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(lock_fd_);
      io_failure("lock", lock);
    }
  }
}

Store::~Store() { ::close(lock_fd_); }  // closing drops the flock

bool Store::reserve(const std::string& container_id, const std::string& ifname, const IpAddress& address,
                    size_t range_set) {
  // host-local creates the address's file and then writes into it: a kill in between leaves an empty claim
  // that nothing ever releases. Here the claim is written whole under a temporary name first, then linked to
  // the address's name (which fails if taken). A kill leaves either no claim, or a file whose text names the
  // attachment, which its DEL (ours or host-local's: both match files by text) removes.
  std::string claim = fmt::format("{}/{}{}-{}", dir_, kClaimPrefix, ::getpid(), address.str());
  ::unlink(claim.c_str());  // a kill's leftover of an earlier process with our pid
  write_file(claim, allocation_text(container_id, ifname), true);
  int linked = ::link(claim.c_str(), (dir_ + "/" + address.str()).c_str());
  int saved = errno;
  ::unlink(claim.c_str());
  if (linked != 0) {
    if (saved == EEXIST) return false;
    errno = saved;
    io_failure("create", dir_ + "/" + address.str());
  }
  write_file(fmt::format("{}/{}{}", dir_, kLastReservedPrefix, range_set), address.str(), false);
  return true;
}

std::optional<IpAddress> Store::last_reserved(size_t range_set) const {
  auto text = read_small_file(fmt::format("{}/{}{}", dir_, kLastReservedPrefix, range_set));
  return text ? IpAddress::parse(*text) : std::nullopt;
}

template <class Visit>
void Store::each_file(Visit&& visit) const {
  if (Directory dir = open_directory(AT_FDCWD, dir_.c_str(), 0)) walk_files(dir.get(), 0, visit);
}

std::vector<IpAddress> Store::held_by(const std::string& container_id, const std::string& ifname) const {
  std::string mine = allocation_text(container_id, ifname), old = old_allocation_text(container_id);
  std::vector<IpAddress> out;
  each_file([&](const FileEntry& file) {
    if (file.text != mine && file.text != old) return;
    if (auto a = IpAddress::parse(file.name)) out.push_back(*a);
  });
  return out;
}

bool Store::release(const std::string& container_id, const std::string& ifname) {
  auto remove_matching = [&](const std::string& match) {
    bool found = false;
    each_file([&](const FileEntry& file) {
      if (file.text == match && ::unlinkat(file.dir_fd, file.name, 0) == 0) found = true;
    });
    return found;
  };
  // An old release wrote only the container id: its files are released when the attachment has none.
  return remove_matching(allocation_text(container_id, ifname)) || remove_matching(old_allocation_text(container_id));
}

std::vector<std::pair<std::string, std::string>> Store::allocations() const {
  std::vector<std::pair<std::string, std::string>> out;
  each_file([&](const FileEntry& file) {
    if (!file.top_level) return;
    std::string name = file.name;
    if (IpAddress::parse(name) || name.starts_with(kClaimPrefix)) out.emplace_back(name, file.text);
  });
  return out;
}

bool Store::remove(const std::string& name) { return ::unlink((dir_ + "/" + name).c_str()) == 0; }

}  // namespace topo::cni::host_local
