#include "topo/table_reservations.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include <fmt/format.h>

#include "topo/error.h"
#include "topo/state_dir.h"

namespace topo {

using nlohmann::json;

namespace {

// The file holds the attachment's id, "network/container id/ifname[/plugin]": none of the four contains '/'
// (a file from before format 4 has three).
// Nothing but a regular file of ours is read (a symlink planted there is not followed: it reads as no owner,
// and reserve() replaces it by a file of its own).
std::optional<Attachment> read_owner(const std::string& path) {
  int fd = -1;
  try {
    fd = open_private_file(path, O_RDONLY);
  } catch (const StateDirError&) {
    return std::nullopt;
  }
  if (fd < 0) return std::nullopt;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string_view id(buf, static_cast<size_t>(n));
  size_t a = id.find('/');
  size_t b = a == std::string_view::npos ? a : id.find('/', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  size_t c = id.find('/', b + 1);
  std::string_view ifname = id.substr(b + 1, c == std::string_view::npos ? c : c - b - 1);
  std::string plugin = c == std::string_view::npos ? "" : std::string(id.substr(c + 1));
  return Attachment{std::string(id.substr(0, a)), std::string(id.substr(a + 1, b - a - 1)), std::string(ifname),
                    plugin};
}

// Creates `path` naming `owner`; false if it exists. `replace`: whatever is there is removed first (unlink
// removes a symlink itself, never its target; O_TRUNC on a planted symlink overwrote the target).
bool write_owner(const std::string& path, const Attachment& owner, bool replace) {
  if (replace && ::unlink(path.c_str()) != 0 && errno != ENOENT) throw SystemError(errno, "remove " + path);
  int fd = open_private_file(path, O_WRONLY | O_CREAT | O_EXCL);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw_open_error(errno, "create", path);
  }
  std::string id = owner.id();
  bool ok = ::write(fd, id.data(), id.size()) == static_cast<ssize_t>(id.size());
  int err = errno;
  ::close(fd);
  if (!ok) throw SystemError(err, "write " + path);
  return true;
}

bool same(const Attachment& a, const Attachment& b) { return a.id() == b.id(); }

}  // namespace

std::vector<uint32_t> tables_in(const json& value) {
  std::vector<uint32_t> out;
  auto add = [&](const json& v) {
    if (v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 0xFFFFFFFFLL)
      out.push_back(static_cast<uint32_t>(v.get<int64_t>()));
  };
  if (value.is_array()) {
    for (const json& v : value) add(v);
  } else {
    add(value);
  }
  return out;
}

std::vector<uint32_t> tables_of(const json& allocations) {
  std::vector<uint32_t> out;
  if (!allocations.is_object()) return out;
  for (const auto& [name, value] : allocations.items()) {
    std::vector<uint32_t> some = tables_in(value);
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

TableReservations::TableReservations(const Journal& journal) : journal_(journal), dir_(journal.dir() + "/.tables") {}

std::string TableReservations::path_of(uint32_t table) const { return fmt::format("{}/{}", dir_, table); }

void TableReservations::create_dir_and_adopt_journals() {
  if (dir_ready_) return;
  ensure_private_dir(journal_.dir());
  if (::mkdir(dir_.c_str(), 0700) != 0) {
    if (errno != EEXIST) throw SystemError(errno, "create " + dir_);
    ensure_private_subdir(journal_.dir(), ".tables");  // exists: checked (a symlink, another owner: refused)
    dir_ready_ = true;
    return;
  }
  dir_ready_ = true;
  for (const JournalRecord& r : journal_.all())
    for (uint32_t t : tables_of(r.allocations)) write_owner(path_of(t), r.attachment, false);
}

bool TableReservations::reserve(uint32_t table, const Attachment& owner) {
  create_dir_and_adopt_journals();
  std::string path = path_of(table);
  if (write_owner(path, owner, false)) return true;
  auto holder = read_owner(path);
  if (holder && same(*holder, owner)) return true;
  // Unreadable, or its attachment is gone: nothing will ever release it otherwise.
  if (holder && journal_.exists(*holder)) return false;
  write_owner(path, owner, true);
  return true;
}

bool TableReservations::available(uint32_t table, const Attachment& owner) const {
  auto holder = read_owner(path_of(table));
  if (!holder) return true;
  return same(*holder, owner) || !journal_.exists(*holder);
}

void TableReservations::release(const Attachment& owner, const std::vector<uint32_t>& tables) {
  for (uint32_t t : tables) {
    std::string path = path_of(t);
    auto holder = read_owner(path);
    if (holder && same(*holder, owner) && ::unlink(path.c_str()) != 0 && errno != ENOENT)
      throw SystemError(errno, "remove " + path);
  }
}

}  // namespace topo
