// TemplateLibrary: search directories in order, then the compiled-in templates.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "template/builtin.h"
#include "template_fakes.h"
#include "topo/error.h"
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
    auto src = lib.find(std::string(name));
    REQUIRE(src);
    CHECK(src->builtin);
    CHECK(src->file == "<builtin>/" + std::string(name) + ".yaml");
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

TEST_CASE("include: a fragment's parameters and objects join the template; its errors point into it") {
  TempDir dir("frag");
  fs::create_directories(dir.path / "fragments");
  dir.write("fragments/forwarding.yaml", R"(description: forwarding on the host end of a veth
parameters:
  rpFilter: {type: int, default: 2, min: 0, max: 2}
host:
  sysctls:
    - {name: "net.ipv4.conf.${ vars.dev }.forwarding", value: 1}
    - {name: "net.ipv4.conf.${ vars.dev }.rp_filter", value: "${ params.rpFilter }"}
)");
  dir.write("fragments/broken.yaml", "host:\n  routes:\n    - {dst: \"${ params.nope }\", dev: eth0}\n");
  dir.write("fragments/dup.yaml", "parameters:\n  dev: {type: string}\n");
  TemplateLibrary lib({dir.path.string()});
  REQUIRE(lib.find_fragment("forwarding"));
  CHECK_FALSE(lib.find_fragment("../forwarding"));
  CHECK_FALSE(lib.find("forwarding"));  // fragments are not templates

  auto render = [&](const std::string& yaml, nlohmann::json config = nlohmann::json::object()) {
    Template t = Template::load({"t", "t.yaml", yaml}, &lib);
    RenderContext ctx;
    ctx.config = config;
    return t.render(ctx);
  };
  Rendered r = render("include: forwarding\nparameters:\n  dev: {type: string, default: veth1}\n"
                      "vars:\n  dev: \"${ params.dev }\"\n",
                      {{"rpFilter", 1}});
  REQUIRE(r.state.of<Sysctl>().size() == 2);
  CHECK(r.state.of<Sysctl>()[0].name == "net.ipv4.conf.veth1.forwarding");
  CHECK(r.state.of<Sysctl>()[1].value == "1");
  CHECK(r.params["rpFilter"] == 1);

  auto error = [&](const std::string& yaml) { return test::spec_error_of([&] { render(yaml); }); };
  SpecError broken = error("include: [broken]\n");
  CHECK(broken.file == (dir.path / "fragments" / "broken.yaml").string());
  CHECK(broken.line == 3);
  CHECK(broken.path == "host.routes[0].dst");
  SpecError dup = error("parameters:\n  dev: {type: string}\ninclude: [dup]\n");
  CHECK(dup.file == (dir.path / "fragments" / "dup.yaml").string());
  CHECK(dup.path == "parameters.dev");
  SpecError missing = error("include: [forwarding, nope]\nvars: {dev: x}\n");
  CHECK(missing.file == "t.yaml");
  CHECK(missing.path == "include[1]");
  CHECK(missing.message ==
        "no fragment named 'nope' (looked for fragments/nope.yaml in the template directories)");
  CHECK(error("include: [forwarding, forwarding]\n").path == "include[1]");
  try {
    Template::load({"t", "t.yaml", "include: forwarding\n"});
    FAIL("no error");
  } catch (const SpecError& e2) {
    CHECK(e2.path == "include");
  }
}
