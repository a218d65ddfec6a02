#include "cni/host_local/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

std::optional<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  std::string text(kMaxFileBytes, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  return text;
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
  std::error_code ec;
  // As Go's filepath.Walk: every level, in no particular order here (nothing depends on it); a symlink is
  // not followed into a directory, but a symlinked file is read through.
  for (fs::recursive_directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->symlink_status(type_ec).type() == fs::file_type::directory) continue;
    if (auto text = read_small_file(it->path().string())) visit(it->path(), trimmed(std::move(*text)));
  }
}

std::vector<IpAddress> Store::held_by(const std::string& container_id, const std::string& ifname) const {
  std::string mine = allocation_text(container_id, ifname), old = old_allocation_text(container_id);
  std::vector<IpAddress> out;
  each_file([&](const fs::path& path, const std::string& text) {
    if (text != mine && text != old) return;
    if (auto a = IpAddress::parse(path.filename().string())) out.push_back(*a);
  });
  return out;
}

bool Store::release(const std::string& container_id, const std::string& ifname) {
  auto remove_matching = [&](const std::string& match) {
    bool found = false;
    each_file([&](const fs::path& path, const std::string& text) {
      if (text == match && ::unlink(path.c_str()) == 0) found = true;
    });
    return found;
  };
  // An old release wrote only the container id: its files are released when the attachment has none.
  return remove_matching(allocation_text(container_id, ifname)) || remove_matching(old_allocation_text(container_id));
}

std::vector<std::pair<std::string, std::string>> Store::allocations() const {
  std::vector<std::pair<std::string, std::string>> out;
  each_file([&](const fs::path& path, const std::string& text) {
    std::string name = path.filename().string();
    if (path.parent_path() != fs::path(dir_)) return;
    if (IpAddress::parse(name) || name.starts_with(kClaimPrefix)) out.emplace_back(name, text);
  });
  return out;
}

bool Store::remove(const std::string& name) { return ::unlink((dir_ + "/" + name).c_str()) == 0; }

}  // namespace topo::cni::host_local
