#include "topo/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "topo/error.h"
#include "topo/hash.h"
#include "topo/journal_format.h"
#include "topo/model/json.h"
#include "topo/state_dir.h"

namespace topo {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A name used as a path component: what the CNI layer lets through (no '/', not "." or "..", no NUL).
bool safe_component(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

Journal::Journal(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) dir_ = state_dir_from_environment();
}

void Journal::ensure_dir() const {
  // 0700, created so or refused (topo/state_dir.h): journals name containers and interfaces, and the
  // directory holds the locks every ADD and DEL takes.
  ensure_private_dir(dir_);
}

std::string Journal::interface_stem(const Attachment& a) {
  // Names were validated (no '/'), so they are safe as path components. A file name may not exceed 255
  // bytes and container ids may be that long themselves: long ones are shortened with a hash (the record
  // inside keeps the full id).
  // Checked again here, because a record read back from disk names its attachment too (all()).
  for (const std::string* name : {&a.network, &a.container_id, &a.ifname})
    if (!safe_component(*name)) throw StateDirError(fmt::format("refusing attachment name '{}' as a path", *name));
  std::string id = a.container_id;
  if (id.size() > 128) id = fmt::format("{}~{:016x}", id.substr(0, 100), fnv1a(id));
  return id + "-" + a.ifname;
}

std::string Journal::path_of(const Attachment& a) const {
  std::string stem = interface_stem(a);
  if (!a.plugin.empty() && !safe_component(a.plugin))
    throw StateDirError(fmt::format("refusing template name '{}' as a path", a.plugin));
  if (a.plugin.empty()) return fmt::format("{}/{}/{}.json", dir_, a.network, stem);
  // Format 4: "<container id>-<ifname>@<template>.json", next to the pod interface's other entries. '@' is in
  // no container id or interface name the CNI layer lets through, so no legacy name reads as one of these. A
  // long template name is shortened like a long id (the file name must stay under 255 bytes with ".lock" or
  // ".tmp.<pid>" instead of ".json").
  std::string plugin = a.plugin;
  if (plugin.size() > 64) plugin = fmt::format("{}~{:016x}", plugin.substr(0, 40), fnv1a(plugin));
  return fmt::format("{}/{}/{}@{}.json", dir_, a.network, stem, plugin);
}

Attachment Journal::resolve(const Attachment& a) const {
  if (a.plugin.empty() || exists(a)) return a;
  Attachment legacy = a.interface_only();
  std::string path = path_of(legacy);
  std::optional<std::string> text;
  try {
    text = read_private_file(path);
  } catch (const StateDirError&) {
    return a;  // not a file topocni made: load() of the legacy identity would refuse it too; not this request's
  }
  if (!text) return a;
  JournalParse parsed = parse_journal_record(*text, path);  // a newer format: JournalFormatError, as load()
  // Another template's old journal stays that template's (its own DEL resolves to it).
  if (!parsed.record.template_name.empty() && parsed.record.template_name != a.plugin) return a;
  return legacy;
}

std::optional<JournalRecord> Journal::load(const Attachment& a) const {
  std::string path = path_of(a);
  std::optional<std::string> text = read_private_file(path);
  if (!text) return std::nullopt;
  JournalParse parsed = parse_journal_record(*text, path);
  // The file of one attachment naming another is not this attachment's journal.
  if (parsed.attachment_known && parsed.record.attachment.id() != a.id())
    parsed.problems.push_back(fmt::format("network, containerId, ifname: name attachment '{}', not '{}'",
                                          parsed.record.attachment.id(), a.id()));
  if (parsed.damaged()) {
    // Never taken for no journal: DEL would leave behind what the journal alone knew (the default route a
    // takeover replaced, sysctl values), and delete the file as if it had been honoured.
    parsed.record.attachment = a;
    throw JournalDamagedError(path, std::move(parsed.record), std::move(parsed.problems));
  }
  return std::move(parsed.record);
}

bool Journal::exists(const Attachment& a) const {
  struct stat st{};
  return ::lstat(path_of(a).c_str(), &st) == 0;
}

void Journal::store(const JournalRecord& r) const {
  ensure_dir();
  std::string path = path_of(r.attachment);
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  // The network's directory goes away with its last journal (remove), without a lock: a concurrent DEL of
  // that network's last attachment may rmdir it between our mkdir and open. rmdir only succeeds on an empty
  // directory, so once the temp file exists the directory stays until the rename is done; an open that finds
  // no directory just makes it again.
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    ensure_private_subdir(dir_, r.attachment.network);
    // A file of a killed run with our pid is stale: replaced, never written through (O_EXCL).
    ::unlink(tmp.c_str());
    fd = open_private_file(tmp, O_WRONLY | O_CREAT | O_EXCL);
    if (fd < 0 && (errno != ENOENT || attempt == 100)) throw_open_error(errno, "create", tmp);
  }
  // No fsync: the journal must outlive the process (a crash, a SIGKILL), which the page cache and the rename
  // ensure, not the machine. Everything a journal describes lives in the kernel and is gone after a reboot
  // anyway, and an unreadable journal counts as none (load). Where the state directory is on a disk, not
  // /run's usual tmpfs, an fsync cost an ADD 0.3-1.3 ms.
  write_and_rename(fd, tmp, path, journal_record_to_json(r).dump(1) + "\n");
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

Journal::Listing Journal::list() const {
  Listing out;
  std::error_code ec;
  for (const auto& net : fs::directory_iterator(dir_, ec)) {
    if (!net.is_directory() || net.is_symlink()) continue;
    for (const auto& file : fs::directory_iterator(net.path(), ec)) {
      if (file.path().extension() != ".json") continue;
      std::string path = file.path().string();
      std::optional<std::string> text;
      try {
        text = read_private_file(path);
      } catch (const std::exception& e) {
        out.damaged.push_back({path, {}, false, {fmt::format("(file): {}", e.what())}});
        continue;
      }
      if (!text) continue;  // gone since the directory was read
      JournalParse parsed = parse_journal_record(*text, path);  // JournalFormatError goes to the caller
      // The record names its attachment, and GC and DEL derive every path from that name (the journal,
      // table reservations): only a record that sits where its own names put it is trusted. One naming
      // "../../x" made GC unlink a file outside the state dir.
      if (parsed.attachment_known) {
        fs::path expected;
        try {
          expected = path_of(parsed.record.attachment);
        } catch (const StateDirError&) {
        }
        if (expected.filename() != file.path().filename() || parsed.record.attachment.network != net.path().filename()) {
          parsed.attachment_known = false;
          parsed.problems.push_back(fmt::format("it names attachment '{}', whose journal is not this file",
                                                parsed.record.attachment.id()));
        }
      }
      if (parsed.damaged()) {
        if (!parsed.attachment_known) parsed.record.attachment = {};
        out.damaged.push_back({path, std::move(parsed.record), parsed.attachment_known, std::move(parsed.problems)});
      } else {
        out.records.push_back(std::move(parsed.record));
      }
    }
  }
  return out;
}

std::vector<JournalRecord> Journal::siblings(const Attachment& a) const {
  std::vector<JournalRecord> out;
  // "<cid>-<ifname>@": what the file name of every plugin journal of the pod interface starts with.
  std::string prefix = interface_stem(a) + "@";
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(fs::path(dir_) / a.network, ec)) {
    std::string name = file.path().filename().string();
    if (!name.starts_with(prefix) || file.path().extension() != ".json") continue;
    std::optional<std::string> text;
    try {
      text = read_private_file(file.path().string());
    } catch (const StateDirError&) {
      continue;
    }
    if (!text) continue;
    JournalParse parsed = parse_journal_record(*text, file.path().string());
    if (parsed.damaged() || parsed.record.attachment.id() == a.id() ||
        parsed.record.attachment.interface_id() != a.interface_id() ||
        path_of(parsed.record.attachment) != file.path().string())
      continue;
    out.push_back(std::move(parsed.record));
  }
  return out;
}

std::vector<JournalRecord> Journal::all() const {
  Listing listing = list();
  for (const Damaged& d : listing.damaged)
    fmt::print(stderr, "topocni: skipping damaged journal {}: {}\n", d.file, fmt::join(d.problems, "; "));
  return std::move(listing.records);
}

std::string Journal::set_aside(const std::string& file) const {
  // Only a journal file of this state dir: <dir>/<network>/<name>.json.
  fs::path p(file);
  if (p.extension() != ".json" || p.parent_path().parent_path() != fs::path(dir_) ||
      !safe_component(p.parent_path().filename().string()))
    throw StateDirError(fmt::format("refusing to set aside '{}': not a journal of {}", file, dir_));
  std::string aside = file + ".damaged";
  if (::rename(file.c_str(), aside.c_str()) != 0) throw SystemError(errno, "set aside damaged journal " + file);
  // The journal was created 0600 (store); a file put there by hand may not have been.
  ::chmod(aside.c_str(), 0600);
  return aside;
}

std::string Journal::lock_path_of(const Attachment& a) const {
  ensure_dir();
  ensure_private_subdir(dir_, a.network);
  std::string path = path_of(a);
  return path.substr(0, path.size() - std::string(".json").size()) + ".lock";
}

Journal::Lock Journal::lock() const {
  ensure_dir();
  return Lock(dir_ + "/.lock", "journal lock");
}

}  // namespace topo
