// The state directory against a hostile local user (issue 12): its mode is never changed behind anyone's
// back, symlinks planted in it are never followed, and a journal whose names lead elsewhere is not trusted.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "topo/journal.h"
#include "topo/state_dir.h"
#include "topo/table_reservations.h"

using namespace topo;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed with its contents at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/topo-state-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("a state dir topocni creates is 0700; one others can write to is refused and keeps its mode") {
  TempDir tmp;
  const std::string made = tmp.path + "/a/b/state";
  ensure_private_dir(made);
  CHECK(mode_of(made) == 0700);

  const std::string open = tmp.path + "/open";
  REQUIRE(::mkdir(open.c_str(), 0700) == 0);
  REQUIRE(::chmod(open.c_str(), 0777) == 0);
  CHECK_THROWS_AS(ensure_private_dir(open), StateDirError);
  CHECK(mode_of(open) == 0777);  // never chmod'ed
  CHECK_THROWS_AS(Journal(open).lock(), StateDirError);
  CHECK(fs::is_empty(open));

  REQUIRE(::chmod(open.c_str(), 0750) == 0);  // group-readable, but writable only by us: fine
  CHECK_NOTHROW(ensure_private_dir(open));
}

TEST_CASE("files in the state dir are opened without following symlinks") {
  TempDir tmp;
  const std::string victim = tmp.path + "/victim";
  std::ofstream(victim) << "precious\n";
  const std::string link = tmp.path + "/link";
  REQUIRE(::symlink(victim.c_str(), link.c_str()) == 0);
  errno = 0;
  CHECK(open_private_file(link, O_RDWR | O_CREAT) == -1);
  CHECK(errno == ELOOP);
  CHECK_THROWS_AS(throw_open_error(ELOOP, "open", link), StateDirError);
  CHECK(read(victim) == "precious\n");
}

TEST_CASE("a table reservation planted as a symlink is replaced, its target untouched") {
  TempDir tmp;
  const std::string state = tmp.path + "/state";
  Journal journal(state);
  ensure_private_dir(state);
  ensure_private_subdir(state, ".tables");
  const std::string victim = tmp.path + "/victim";
  std::ofstream(victim) << "precious\n";
  REQUIRE(::symlink(victim.c_str(), (state + "/.tables/10000").c_str()) == 0);

  TableReservations reservations(journal);
  Attachment a{"cni0", "c1", "eth0"};
  CHECK(reservations.reserve(10000, a));
  CHECK(read(victim) == "precious\n");  // O_TRUNC through the symlink overwrote it before
  CHECK(fs::is_regular_file(fs::symlink_status(state + "/.tables/10000")));
  CHECK(read(state + "/.tables/10000") == "cni0/c1/eth0");
}

TEST_CASE("a journal whose names do not lead back to its own file is skipped") {
  TempDir tmp;
  const std::string state = tmp.path + "/state";
  Journal journal(state);
  JournalRecord good;
  good.attachment = {"cni0", "c1", "eth0"};
  journal.store(good);
  // What GC once turned into unlink("<state>/cni0/../../x-eth0.json"), outside the state dir.
  const std::string outside = tmp.path + "/x-eth0.json";
  std::ofstream(outside) << "keep\n";
  std::ofstream(state + "/cni0/evil-eth0.json")
      << R"({"network":"cni0","containerId":"../../x","ifname":"eth0"})";
  // Names that are fine but belong to another file (a copied journal) are not trusted either.
  std::ofstream(state + "/cni0/copy-eth0.json") << R"({"network":"cni0","containerId":"c1","ifname":"eth0"})";
  fs::create_directory(state + "/other");
  std::ofstream(state + "/other/c2-eth0.json") << R"({"network":"cni0","containerId":"c2","ifname":"eth0"})";

  auto all = journal.all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].attachment.id() == "cni0/c1/eth0");
  CHECK_THROWS_AS(journal.remove({"cni0", "../../x", "eth0"}), StateDirError);
  CHECK(fs::exists(outside));
}
