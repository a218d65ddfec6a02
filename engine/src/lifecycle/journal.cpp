#include "topo/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "lifecycle/flock_wait.h"
#include "topo/error.h"
#include "topo/hash.h"
#include "topo/model/json.h"

namespace topo {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json record_to_json(const JournalRecord& r) {
  return {{"network", r.attachment.network}, {"containerId", r.attachment.container_id},
          {"ifname", r.attachment.ifname},   {"template", r.template_name},
          {"netns", r.netns},                {"allocations", r.allocations},
          {"prevResult", r.prev_result},
          {"state", r.state},                {"takenOver", r.taken_over}};
}

JournalRecord record_from_json(const json& j) {
  JournalRecord r;
  r.attachment = {j.at("network"), j.at("containerId"), j.at("ifname")};
  r.template_name = j.value("template", "");
  r.netns = j.value("netns", "");
  r.allocations = j.value("allocations", json::object());
  r.prev_result = j.value("prevResult", json());
  r.state = j.value("state", State{});
  r.taken_over = j.value("takenOver", State{});
  return r;
}

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(errno, "write " + path);
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Journal::Journal(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) {
    const char* env = std::getenv("TOPOCNI_STATE_DIR");
    dir_ = env && *env ? env : kDefaultDir;
  }
}

void Journal::ensure_dir() const {
  // 0700: journals name containers and interfaces; nobody but root needs them.
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw SystemError(ec.value(), "create state directory " + dir_);
  ::chmod(dir_.c_str(), 0700);
}

std::string Journal::path_of(const Attachment& a) const {
  // Names were validated (no '/'), so they are safe as path components. A file name may not exceed 255
  // bytes and container ids may be that long themselves: long ones are shortened with a hash (the record
  // inside keeps the full id).
  std::string id = a.container_id;
  if (id.size() > 128) id = fmt::format("{}~{:016x}", id.substr(0, 100), fnv1a(id));
  return fmt::format("{}/{}/{}-{}.json", dir_, a.network, id, a.ifname);
}

std::optional<JournalRecord> Journal::load(const Attachment& a) const {
  std::ifstream in(path_of(a));
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  try {
    return record_from_json(json::parse(text.str()));
  } catch (const std::exception& e) {
    // An unreadable journal is as good as none: DEL falls back to re-rendering.
    fmt::print(stderr, "topocni: ignoring unreadable journal {}: {}\n", path_of(a), e.what());
    return std::nullopt;
  }
}

bool Journal::exists(const Attachment& a) const {
  struct stat st{};
  return ::stat(path_of(a).c_str(), &st) == 0;
}

void Journal::store(const JournalRecord& r) const {
  ensure_dir();
  std::string path = path_of(r.attachment);
  std::string net_dir = fs::path(path).parent_path();
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  // The network's directory goes away with its last journal (remove), without a lock: a concurrent DEL of
  // that network's last attachment may rmdir it between our mkdir and open. rmdir only succeeds on an empty
  // directory, so once the temp file exists the directory stays until the rename is done; an open that finds
  // no directory just makes it again.
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    if (::mkdir(net_dir.c_str(), 0700) != 0 && errno != EEXIST) throw SystemError(errno, "create " + net_dir);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 && (errno != ENOENT || attempt == 100)) throw SystemError(errno, "create " + tmp);
  }
  try {
    // No fsync: the journal must outlive the process (a crash, a SIGKILL), which the page cache and the
    // rename below ensure, not the machine. Everything a journal describes lives in the kernel and is gone
    // after a reboot anyway, and an unreadable journal counts as none (load). Where the state directory is
    // on a disk, not /run's usual tmpfs, an fsync cost an ADD 0.3-1.3 ms.
    write_all(fd, record_to_json(r).dump(1) + "\n", tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw SystemError(err, "rename journal into place " + path);
  }
}

void Journal::remove(const Attachment& a) const {
  std::string path = path_of(a);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw SystemError(errno, "remove " + path);
  // The network's directory goes with its last journal, or every network ever used would leave one behind.
  // rmdir(2) refuses a directory that is not empty (ENOTEMPTY or EEXIST): another attachment of the network,
  // or an ADD between its mkdir and its rename (see store), keeps it. Any other failure only leaves an empty
  // directory, which is harmless.
  ::rmdir(fs::path(path).parent_path().c_str());
}

std::vector<JournalRecord> Journal::all() const {
  std::vector<JournalRecord> out;
  std::error_code ec;
  for (const auto& net : fs::directory_iterator(dir_, ec)) {
    if (!net.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(net.path(), ec)) {
      if (file.path().extension() != ".json") continue;
      std::ifstream in(file.path());
      std::stringstream text;
      text << in.rdbuf();
      try {
        out.push_back(record_from_json(json::parse(text.str())));
      } catch (const std::exception&) {
        // Half-written files cannot exist (atomic rename); anything else unreadable is skipped.
      }
    }
  }
  return out;
}

Journal::Lock::Lock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw SystemError(errno, "open lock " + path);
  try {
    flock_exclusive(fd_, "journal lock", path);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

Journal::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

std::string Journal::lock_path_of(const Attachment& a) const {
  ensure_dir();
  std::string path = path_of(a);
  std::string net_dir = fs::path(path).parent_path();
  if (::mkdir(net_dir.c_str(), 0700) != 0 && errno != EEXIST) throw SystemError(errno, "create " + net_dir);
  return path.substr(0, path.size() - std::string(".json").size()) + ".lock";
}

Journal::Lock Journal::lock() const {
  ensure_dir();
  return Lock(dir_ + "/.lock");
}

}  // namespace topo
