#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "topo/journal.h"
#include "temp_dir.h"

using namespace topo;
namespace fs = std::filesystem;

namespace {

JournalRecord record(const std::string& network, const std::string& id) {
  JournalRecord r;
  r.attachment = {network, id, "eth0"};
  r.template_name = "veth-to-host";
  return r;
}

}  // namespace

TEST_CASE("a network's directory goes away with its last journal, not before") {
  test::TempDir dir{"topo-journal"};
  Journal journal(dir.path.string());
  journal.store(record("cni0", "a"));
  journal.store(record("cni0", "b"));
  journal.store(record("other", "c"));
  journal.remove(record("cni0", "a").attachment);
  CHECK(fs::is_directory(dir.path / "cni0"));  // b is still there
  CHECK(journal.load(record("cni0", "b").attachment).has_value());
  journal.remove(record("cni0", "b").attachment);
  CHECK_FALSE(fs::exists(dir.path / "cni0"));
  CHECK(fs::is_directory(dir.path / "other"));
  journal.remove(record("cni0", "b").attachment);  // a repeated remove is fine, with or without the directory
  journal.store(record("cni0", "d"));               // and the directory comes back with the next journal
  CHECK(journal.exists(record("cni0", "d").attachment));
}

TEST_CASE("storing races removing the network's last journal without losing a journal") {
  // One thread adds and removes attachments of the network (each time its last one, so every remove tries to
  // rmdir), the other stores journals of the same network and checks each is there. Without the retry in
  // store(), its open() failed now and then with ENOENT.
  test::TempDir dir{"topo-journal"};
  Journal journal(dir.path.string());
  std::atomic<bool> stop{false};
  std::atomic<int> churn_failures{0};
  std::thread churn([&] {
    while (!stop) {
      JournalRecord r = record("cni0", "churn");
      try {
        journal.store(r);
        journal.remove(r.attachment);
      } catch (const std::exception&) {
        ++churn_failures;  // its store lost the same race; counted, not thrown out of the thread
      }
    }
  });
  int failures = 0, missing = 0;
  for (int i = 0; i < 2000; ++i) {
    JournalRecord r = record("cni0", "keeper" + std::to_string(i));
    try {
      journal.store(r);
      if (!journal.exists(r.attachment)) ++missing;
      journal.remove(r.attachment);
    } catch (const std::exception& e) {
      ++failures;
      if (failures == 1) MESSAGE(std::string(e.what()));
    }
  }
  stop = true;
  churn.join();
  CHECK(failures == 0);
  CHECK(churn_failures.load() == 0);
  CHECK(missing == 0);
  CHECK_FALSE(fs::exists(dir.path / "cni0"));
}
