// Damaged journals: ones still in place (the next DEL of their attachment, or a GC, reports them, removes what
// the ownership marks find and sets them aside) and ones set aside as <file>.json.damaged, which only an
// operator removes, after checking that nothing they describe is left (docs/operations.md).
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "doctor.h"
#include "topo/journal.h"

namespace topo::cli::doctor {

namespace fs = std::filesystem;

void check_damaged_journals(const Node& node, std::vector<Finding>& out) {
  Journal journal(node.options.state_dir);
  size_t found = 0;
  std::error_code ec;
  for (const auto& net : fs::directory_iterator(journal.dir(), ec)) {
    if (!net.is_directory() || net.is_symlink()) continue;
    for (const auto& file : fs::directory_iterator(net.path(), ec)) {
      std::string name = file.path().filename().string();
      if (!name.ends_with(".json.damaged")) continue;
      ++found;
      out.push_back({"damaged-journal", Status::Problem, file.path().string(),
                     fmt::format("files named *.json.damaged in {}", journal.dir()),
                     "a damaged journal that a DEL or GC set aside: the objects it described were removed as far "
                     "as topocni's ownership marks found them, but what only the journal knew (a route a "
                     "takeover replaced, sysctl values to restore) may not have been put back",
                     fmt::format("read it (cat {}), compare the routes under \"takenOver\" and the sysctls' "
                                 "\"previous\" values with the node (ip route, sysctl), fix what differs, then "
                                 "rm {}",
                                 file.path().string(), file.path().string())});
    }
  }
  for (const Journal::Damaged& d : journal.list().damaged) {
    ++found;
    std::string fix =
        d.attachment_known
            ? fmt::format("a DEL of {} (the runtime's, or by hand) removes what is ours and sets the file aside",
                          d.record.attachment.id())
            : fmt::format("a CNI GC of network '{}' sets it aside (it names no attachment, so no mark can find "
                          "its objects: see the unjournaled-* findings)",
                          fs::path(d.file).parent_path().filename().string());
    out.push_back({"damaged-journal", Status::Problem, d.file, "journals in " + journal.dir() + ", read strictly",
                   fmt::format("not what topocni writes: {}; ADD and CHECK of its attachment fail with code 5 "
                               "until it is gone",
                               fmt::join(d.problems, "; ")),
                   fix});
  }
  if (found == 0)
    out.push_back({"damaged-journal", Status::Ok, "", "journals in " + journal.dir() + ", read strictly",
                   "no damaged journal, none set aside", ""});
}

}  // namespace topo::cli::doctor
