// topocni's state directory (journals, table reservations, locks) and how every file in it is opened.
//
// Everything topocni keeps on the node lives in one directory that only root can enter: a local user who
// could create, lock or replace a file there could block every ADD and DEL (flock a lock file), or make root
// write through a planted symlink. So:
//   - the directory is created 0700 when missing; one that exists is used only if it is a directory owned by
//     the user topocni runs as (root) and writable by nobody else. It is never chmod'ed: a directory someone
//     else made keeps its mode, and topocni refuses it (StateDirError, CNI code 5) instead of taking it over;
//   - subdirectories (one per network, .tables/, .locks/) get the same checks, without following symlinks;
//   - files are opened with O_NOFOLLOW | O_CLOEXEC and used only if they are regular files owned by us.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "topo/error.h"

namespace topo {

// The state directory is unsafe to use (owned by another user, writable by others, not a directory) or a
// file in it is not one topocni made (a symlink, a device, another user's). Nothing was changed.
class StateDirError : public Error {
 public:
  using Error::Error;
};

// $TOPOCNI_STATE_DIR, else /run/topocni.
std::string state_dir_from_environment();

// Makes sure `dir` exists and is safe (see above); creates it (and missing parents, 0755 as mkdir -p would)
// with mode 0700. Throws StateDirError or SystemError.
void ensure_private_dir(const std::string& dir);

// The same for `parent/name`, a direct child of a directory ensure_private_dir() accepted: never follows a
// symlink at `name`.
void ensure_private_subdir(const std::string& parent, const std::string& name);

// open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode) (O_NONBLOCK: a FIFO cannot hang it), then
// refuses (closes, throws StateDirError) anything but a regular file owned by our effective uid. Returns -1
// with errno set when open() fails (ENOENT, ELOOP for a symlink: the caller decides; throw_open_error()
// throws for it).
int open_private_file(const std::string& path, int flags, mode_t mode = 0600);

// The error for a failed open_private_file(): StateDirError for a symlink (ELOOP), else SystemError.
[[noreturn]] void throw_open_error(int err, const std::string& what, const std::string& path);

// The whole file, opened as open_private_file() does; nullopt when there is none.
std::optional<std::string> read_private_file(const std::string& path);

// Writes all of `data` to `fd` (retrying short writes); SystemError naming `path` on failure.
void write_all_to(int fd, const std::string& data, const std::string& path);

// Writes `data` into `fd` (a private temp file at `tmp`, just created), closes it and renames it over `path`;
// on failure the temp file is removed.
void write_and_rename(int fd, const std::string& tmp, const std::string& path, const std::string& data);

// Replaces `path` with `data` atomically: a private temp file next to it, renamed over it. No fsync, as for
// journals (lifecycle/journal.cpp): what these files describe lives in the kernel and ends with a reboot.
void replace_private_file(const std::string& path, const std::string& data);

}  // namespace topo
