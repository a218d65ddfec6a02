// Files a container runtime reads or executes, replaced whole: a reader sees the old file or the new one,
// never a half-written one, and a running binary is never written in place (that fails with ETXTBSY).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace topo::install {

// The content goes to a temporary name in the same directory (rename(2) is atomic only within one file
// system), is fsynced, then renamed over `path`; the directory is fsynced so the rename survives a crash.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode);
// The same, with the content of the file `from` (read whole, so `from` may be /proc/self/exe).
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& path, mode_t mode);
// A symbolic link `path` -> `target`, made under a temporary name and renamed over `path`.
void symlink_atomically(const std::string& target, const std::filesystem::path& path);
// Removes `path` and fsyncs its directory; false when it did not exist.
bool remove_synced(const std::filesystem::path& path);
// Removes temporary files a killed earlier run left in `dir` (only names this code makes).
void remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace topo::install
