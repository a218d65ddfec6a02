// TemplateLibrary: search directories in order, then the compiled-in templates.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "template/builtin.h"
#include "topo/template/template.h"

using namespace topo;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const char* tag) {
    path = fs::temp_directory_path() / fmt_name(tag);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static std::string fmt_name(const char* tag) {
    return std::string("topo-lib-") + tag + "-" + std::to_string(::getpid());
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

}  // namespace

TEST_CASE("the built-in templates include the flagship, and all of them load") {
  REQUIRE(builtin_templates().count("veth-to-host") == 1);
  TemplateLibrary lib({});
  for (const auto& [name, text] : builtin_templates()) {
    CAPTURE(name);
    auto src = lib.find(name);
    REQUIRE(src);
    CHECK(src->builtin);
    CHECK(src->file == "<builtin>/" + name + ".yaml");
    CHECK(src->text == text);
    CHECK_NOTHROW(Template::load(*src));
  }
}

TEST_CASE("a search directory shadows the built-in; earlier directories shadow later ones") {
  TempDir a("a"), b("b");
  a.write("mine.yaml", "description: from a\n");
  b.write("mine.yaml", "description: from b\n");
  b.write("veth-to-host.yaml", "description: local override\n");
  b.write("notes.txt", "not a template\n");
  TemplateLibrary lib({a.path.string(), b.path.string()});

  auto mine = lib.find("mine");
  REQUIRE(mine);
  CHECK(mine->file == (a.path / "mine.yaml").string());
  CHECK(mine->text == "description: from a\n");
  CHECK_FALSE(mine->builtin);

  auto flagship = lib.find("veth-to-host");
  REQUIRE(flagship);
  CHECK(flagship->file == (b.path / "veth-to-host.yaml").string());
  CHECK_FALSE(flagship->builtin);

  CHECK_FALSE(lib.find("missing"));
  CHECK_FALSE(lib.find("notes"));
  // Names cannot leave the directory.
  CHECK_FALSE(lib.find("../b/mine"));
  CHECK_FALSE(lib.find(".hidden"));
  CHECK_FALSE(lib.find(""));

  std::vector<std::string> listed;
  for (auto& s : lib.list())
    if (s.name == "mine" || s.name == "veth-to-host")
      listed.push_back(s.name + (s.builtin ? " builtin" : " " + s.file));
  std::vector<std::string> want = {
      "mine " + (a.path / "mine.yaml").string(), "mine " + (b.path / "mine.yaml").string(),
      "veth-to-host " + (b.path / "veth-to-host.yaml").string(), "veth-to-host builtin"};
  CHECK(listed == want);

  // Without the directories the built-in one is found again.
  CHECK(TemplateLibrary({"/nonexistent"}).find("veth-to-host")->builtin);
}
