// The built-in templates are parsed at build time (engine/gen/compile_templates.cpp) into a table of nodes
// that every load reads in place (template/compiled.h, template/tree.h). That must change nothing but speed:
// each table is the tree yaml-cpp parses from its file in specs/, with every node at the same line and
// column, so messages about a built-in template point into specs/ as before; and loading one parses no text.
#include <doctest/doctest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "template/builtin.h"
#include "template/compiled.h"
#include "template/tree.h"
#include "template/parse.h"
#include "template_fakes.h"
#include "topo/error.h"
#include "topo/template/template.h"

using namespace topo;

namespace {

// Describes the first difference between yaml-cpp's tree and a table's, or returns "" when they are the same.
std::string first_difference(const YAML::Node& a, const tmpl::Node& b, const std::string& path) {
  auto where = [&](auto mark) {
    return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + " (offset " +
           std::to_string(mark.pos) + ")";
  };
  if (static_cast<int>(a.Type()) != static_cast<int>(b.Type())) return path + ": node types differ";
  if (where(a.Mark()) != where(b.Mark()))
    return path + ": at " + where(a.Mark()) + " in specs/, at " + where(b.Mark()) + " compiled";
  if (a.Tag() != b.Tag()) return path + ": tag '" + a.Tag() + "' became '" + std::string(b.Tag()) + "'";
  if (static_cast<int>(a.Style()) != b.Style()) return path + ": styles differ";
  if (a.IsScalar())
    return a.Scalar() == b.Scalar() ? "" : path + ": '" + a.Scalar() + "' became '" + std::string(b.Scalar()) + "'";
  if (a.size() != b.size()) return path + ": sizes differ";
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (auto d = first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  auto ib = b.begin();
  for (auto ia = a.begin(); ia != a.end(); ++ia, ++ib) {
    std::string key = path + "." + ia->first.Scalar();
    if (auto d = first_difference(ia->first, ib->first, key + " (key)"); !d.empty()) return d;
    if (auto d = first_difference(ia->second, ib->second, key); !d.empty()) return d;
  }
  return "";
}

std::string spec_file(const std::string& name) {
  std::ifstream in(std::string(TOPO_SOURCE_DIR) + "/specs/" + name + ".yaml");
  REQUIRE(in);
  std::stringstream file;
  file << in.rdbuf();
  return file.str();
}

RenderContext veth_context(test::FakeFacts& facts, test::FakeAllocator& alloc) {
  RenderContext ctx;
  ctx.config = {{"cniVersion", "1.0.0"}, {"name", "pods"}, {"type", "veth-to-host"},
                {"hostInterface", "ens3"}, {"ipMasq", true}};
  ctx.cni = {{"containerId", "c1"}, {"ifname", "eth0"}, {"netns", "/run/netns/c1"},
             {"network", "pods"},   {"command", "ADD"}, {"attachment", "c1/eth0"}};
  ctx.prev = {{"interfaces", {{{"name", "eth0"}, {"sandbox", "/run/netns/c1"}}}},
              {"ips", {{{"address", "10.10.20.50/24"}, {"gateway", "10.10.20.1"}, {"interface", 0}}}}};
  ctx.facts = &facts;
  ctx.allocator = &alloc;
  return ctx;
}

}  // namespace

TEST_CASE("every built-in template is compiled from its specs/ file: the same tree, node for node and line for line") {
  const auto& builtins = builtin_templates();
  REQUIRE(builtins.size() >= 4);
  for (const auto& [view, text] : builtins) {
    const std::string name(view);
    CAPTURE(name);
    std::string file = spec_file(name);
    CHECK(text == file);  // topoctl shows the file as written
    const CompiledTemplate* compiled = builtin_compiled(name);
    REQUIRE(compiled != nullptr);
    CHECK(compiled->nodes.size() > 50);
    CHECK(first_difference(YAML::Load(file), tmpl::root_of(compiled->nodes), name) == "");
  }
  CHECK(builtin_compiled("no-such-template") == nullptr);
}

TEST_CASE("the comparison above sees a moved node") {
  // The compiled tree of a one-key map, then the same with the value's column off by one.
  using tmpl::NodeType;
  tmpl::TreeNode nodes[] = {{NodeType::Map, YAML::EmitterStyle::Block, 0, 0, 0, 1, 3, "?", ""},
                            {NodeType::Scalar, 0, 0, 0, 0, 0, 1, "?", "a"},
                            {NodeType::Scalar, 0, 3, 0, 3, 0, 1, "?", "1"}};
  CHECK(first_difference(YAML::Load("a: 1"), tmpl::root_of(nodes), "t") == "");
  nodes[2].column = 4;
  CHECK(first_difference(YAML::Load("a: 1"), tmpl::root_of(nodes), "t") != "");
  // A table that is not one whole tree is refused, never read past its end.
  CHECK_THROWS_AS(tmpl::root_of(std::span(nodes, 2)), std::logic_error);
  CHECK_THROWS_AS(tmpl::root_of(std::span(nodes + 1, 2)), std::logic_error);
  nodes[0].span = 2;  // a span that disagrees with the sizes
  CHECK_THROWS_AS(tmpl::root_of(nodes), std::logic_error);
}

TEST_CASE("loading and rendering a built-in template parses no YAML text; a template in a search dir still does") {
  test::FakeFacts facts;
  facts.addrs["ens3"] = {"192.168.1.10/24"};
  test::FakeAllocator alloc;
  TemplateLibrary lib({});
  auto source = lib.find("veth-to-host");
  REQUIRE(source);
  REQUIRE(source->builtin);
  REQUIRE(source->compiled != nullptr);

  uint64_t before = tmpl::template_text_parses();
  Template t = Template::load(*source, &lib);
  Rendered r = t.render(veth_context(facts, alloc));
  CHECK(tmpl::template_text_parses() == before);
  CHECK(r.state.of<Link>().size() == 1);

  // The same name in a search directory overrides the built-in, and is parsed from its file.
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("topo-compiled-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "veth-to-host.yaml") << "description: a local override\n";
  TemplateLibrary local({dir.string()});
  auto mine = local.find("veth-to-host");
  std::filesystem::remove_all(dir);
  REQUIRE(mine);
  CHECK_FALSE(mine->builtin);
  CHECK(mine->compiled == nullptr);
  Template::load(*mine, &local);
  CHECK(tmpl::template_text_parses() == before + 1);
}

TEST_CASE("an error in a built-in template points where it points when the template's text is parsed") {
  test::FakeFacts facts;  // no ens3: host_addresses() in the template fails at its scalar
  test::FakeAllocator alloc;
  auto compiled = TemplateLibrary({}).find("veth-to-host");
  REQUIRE(compiled);
  TemplateSource parsed = *compiled;
  parsed.compiled = nullptr;
  auto message = [&](const TemplateSource& s) -> std::string {
    try {
      Template::load(s).render(veth_context(facts, alloc));
    } catch (const SpecError& e) {
      CHECK(e.file == "<builtin>/veth-to-host.yaml");
      CHECK(e.line > 0);
      CHECK(e.column > 0);
      return e.what();
    }
    return "no error";
  };
  std::string from_table = message(*compiled);
  CHECK(from_table != "no error");
  CHECK(from_table == message(parsed));
}
