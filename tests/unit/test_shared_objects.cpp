// The shared-object registry: who uses which node-wide object, what the last user releases, and a damaged
// or conflicting registry refused without a change.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "model_builders.h"
#include "topo/error.h"
#include "topo/shared_objects.h"
#include "topo/state_dir.h"
#include "temp_dir.h"

using namespace topo;
using namespace topo::test;
namespace fs = std::filesystem;

namespace {

State bridge_and_route(uint32_t mtu = 1500) {
  State s;
  Link br;
  br.scope = "host";
  br.name = "tbr0";
  br.kind = LinkKind::Bridge;
  br.mtu = mtu;
  br.alias = kSharedOwner.text();
  s.of<Link>().push_back(br);
  s.of<Route>().push_back(route("host", "10.77.0.0/24", "tbr0"));
  return s;
}

}  // namespace

TEST_CASE("the last user releases a shared object, not before; an unregistered one counts as unused") {
  std::vector<SharedEntry> entries;
  register_user(entries, bridge_and_route(), "net/a/eth0");
  register_user(entries, bridge_and_route(), "net/b/eth0");
  register_user(entries, bridge_and_route(), "net/b/eth0");  // again (a retried ADD): still one registration
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].users == std::vector<std::string>{"net/a/eth0", "net/b/eth0"});

  State unused = release_user(entries, bridge_and_route(), "net/a/eth0");
  CHECK(unused.empty());
  CHECK(entries.size() == 2);
  unused = release_user(entries, bridge_and_route(), "net/b/eth0");
  CHECK(unused.size() == 2);
  CHECK(entries.empty());
  // Released again (a DEL retried after it unregistered): no entry, so the objects are unused.
  CHECK(release_user(entries, bridge_and_route(), "net/b/eth0").size() == 2);
}

TEST_CASE("a shared object declared differently is refused, naming it and its users, and nothing changes") {
  std::vector<SharedEntry> entries;
  register_user(entries, bridge_and_route(1500), "net/a/eth0");
  std::vector<SharedEntry> before = entries;
  try {
    register_user(entries, bridge_and_route(1400), "other/b/eth0");
    FAIL("no error");
  } catch (const ConflictError& e) {
    std::string m = e.what();
    CHECK(m.find("declared differently") != std::string::npos);
    CHECK(m.find("tbr0") != std::string::npos);
    CHECK(m.find("net/a/eth0") != std::string::npos);
  }
  REQUIRE(entries.size() == before.size());
  CHECK(entries[0].users == before[0].users);  // the route (same value) was not registered either
  CHECK(entries[1].users == before[1].users);
}

TEST_CASE("the registry file round-trips, goes with its last entry, and a damaged one is refused") {
  topo::test::TempDir dir{"topo-shared"};
  SharedObjects shared(dir.path.string());
  CHECK(shared.load().empty());
  std::vector<SharedEntry> entries;
  register_user(entries, bridge_and_route(), "net/a/eth0");
  shared.store(entries);
  std::vector<SharedEntry> back = shared.load();
  REQUIRE(back.size() == 2);
  CHECK(back[0].object == entries[0].object);
  CHECK(back[1].object == entries[1].object);
  CHECK(back[0].users == entries[0].users);

  shared.store({});
  CHECK_FALSE(fs::exists(shared.path()));

  for (const char* text : {"{", "[]", R"({"format": 2, "objects": []})",
                           R"({"format": 1, "objects": [{"kind": "link", "object": {"name": 3}, "users": []}]})",
                           R"({"format": 1, "objects": [{"kind": "nope", "object": {}, "users": ["a"]}]})",
                           R"({"format": 1, "objects": [], "extra": 1})"}) {
    CAPTURE(text);
    std::ofstream(shared.path()) << text;
    CHECK_THROWS_AS(shared.load(), StateDirError);
  }
}
