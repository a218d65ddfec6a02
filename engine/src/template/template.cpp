#include "topo/template/template.h"

#include <fmt/format.h>

#include "template/allocations.h"
#include "template/assertions.h"
#include "template/compiled.h"
#include "template/include.h"
#include "template/node.h"
#include "template/objects.h"
#include "template/params.h"
#include "template/parse.h"
#include "template/prev.h"
#include "template/result.h"
#include "topo/error.h"
#include "topo/model/scope.h"

namespace topo {

using nlohmann::json;
using namespace tmpl;

namespace {

struct Var {
  std::string name;
  Node value;
  Mark mark;
};

// `proven`: the expressions were parsed when the template was compiled (see Template::load).
std::vector<Var> load_vars(const std::string& file, const Node& node, bool proven) {
  std::vector<Var> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) fail_at(file, node, "vars", "expected a map of variables, found " + node_kind(node));
  for (auto it = node.begin(); it != node.end(); ++it) {
    Var v{std::string(it->first.Scalar()), it->second, it->first.Mark()};
    std::string path = "vars." + v.name;
    if (!is_identifier(v.name))
      fail_at(file, it->first, path, "a variable name must be letters, digits and '_'");
    for (auto& o : out)
      if (o.name == v.name) fail_at(file, it->first, path, fmt::format("duplicate variable '{}'", v.name));
    if (!proven) check_expressions(file, v.value, path);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

struct Template::Impl {
  std::string name, file;
  std::shared_ptr<const Tree> tree;  // a parsed file's; a built-in's table is static (template/compiled.h)
  Node root;
  std::vector<ParamDecl> params;
  std::vector<Allocation> allocations;
  std::vector<Var> vars;
  std::vector<Assertion> assertions;
  Node sections[2];  // host, container
  Node shared;       // node-wide objects, in the host scope (see topo/shared_objects.h)
  std::vector<Fragment> fragments;  // included, in order; rendered after the template's own sections
  bool ipam{false};
  Node result;  // `result:`; undefined when absent
};

Template::Template() : impl_(std::make_unique<Impl>()) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

const std::string& Template::name() const { return impl_->name; }
const std::string& Template::file() const { return impl_->file; }
bool Template::declares_ipam() const { return impl_->ipam; }
bool Template::declares_result() const { return static_cast<bool>(impl_->result); }

Template Template::load(const TemplateSource& source, const TemplateLibrary* library) {
  Template t;
  Impl& m = *t.impl_;
  m.name = source.name;
  m.file = source.file;
  const std::string& file = m.file;
  // A built-in was loaded by the generator, with every check below, from the very text its table holds
  // (engine/gen/compile_templates.cpp; tests/unit/test_builtin_templates.cpp proves the table is that text's
  // tree). Its object sections and expressions (assertions' too) are therefore not checked again on every ADD:
  // those checks were most of its load time. What load extracts (parameters, allocations, assertions) it
  // still reads.
  const bool proven = source.compiled != nullptr;
  if (source.compiled) {
    m.root = root_of(source.compiled->nodes);
  } else {
    m.tree = parse_template_text(file, source.text);
    m.root = m.tree->root();
  }
  if (!m.root || m.root.IsNull()) fail_at(file, Mark::null_mark(), "", "the template is empty");
  check_map(file, m.root, "", "a template",
            {{"name", false},
             {"description", false},
             {"include", false},
             {"parameters", false},
             {"allocate", false},
             {"vars", false},
             {"assert", false},
             {kHostScope, false},
             {kContainerScope, false},
             {kSharedSection, false},
             {"ipam", false},
             {"result", false}});
  if (Node name = find_key(m.root, "name")) {
    if (!name.IsScalar() || name.Scalar() != source.name)
      fail_at(file, name, "name",
              fmt::format("the name must be the file's stem '{}', found {}", source.name, node_kind(name)));
  }
  if (Node d = find_key(m.root, "description"); d && !d.IsScalar() && !d.IsNull())
    fail_at(file, d, "description", "expected text, found " + node_kind(d));
  m.params = load_parameters(file, find_key(m.root, "parameters"));
  m.fragments = load_includes(file, find_key(m.root, "include"), library, m.params);
  m.allocations = load_allocations(file, find_key(m.root, "allocate"));
  m.vars = load_vars(file, find_key(m.root, "vars"), proven);
  m.assertions = load_assertions(file, find_key(m.root, "assert"), proven);
  const char* scopes[2] = {kHostScope, kContainerScope};
  for (int i = 0; i < 2; ++i) {
    m.sections[i] = find_key(m.root, scopes[i]);
    if (m.sections[i] && !proven) check_section(file, m.sections[i], scopes[i]);
  }
  m.shared = find_key(m.root, kSharedSection);
  if (m.shared && !proven) check_section(file, m.shared, kSharedSection);
  if (Node ipam = find_key(m.root, "ipam")) {
    json v = ipam.IsScalar() ? plain_scalar(ipam) : json();
    if (!v.is_boolean()) fail_at(file, ipam, "ipam", "expected true or false, found " + node_kind(ipam));
    m.ipam = v.get<bool>();
  }
  m.result = find_key(m.root, "result");
  if (m.result && !proven) check_result(file, m.result);
  return t;
}

Rendered Template::render(const RenderContext& ctx) const {
  const Impl& m = *impl_;
  Rendered out;
  out.params = bind_parameters(m.params, ctx.config);
  json roots = {{"params", out.params},
                {"cni", ctx.cni.is_null() ? json::object() : ctx.cni},
                {"prev", normalize_prev(ctx.prev)},
                {"vars", json::object()},
                {"alloc", json::object()}};
  // Without an IPAM result there is nothing to read; DEL renders without one (it releases, not allocates).
  if (m.ipam && ctx.ipam.is_null() && roots["cni"].value("command", "") != "DEL")
    throw SpecError("<network config>", 0, 0, "ipam.type",
                    fmt::format("the template '{}' uses IPAM: the network config needs an 'ipam' object with a "
                                "string 'type' (the IPAM plugin)", m.name));
  // Only a template that declares it has the root: the others pay nothing, and one that reads `ipam` without
  // declaring it is told the root does not exist.
  if (m.ipam) roots["ipam"] = normalize_ipam(ctx.ipam);
  EvalEnv env{roots, ctx.facts};
  roots["alloc"] = allocate(m.file, m.allocations, ctx.allocator, env);
  out.allocations = roots["alloc"];
  NodeRenderer renderer(m.file, env);
  // In order, each into `vars` before the next renders: later variables may use earlier ones.
  for (const Var& v : m.vars) {
    roots["vars"][v.name] =
        renderer.render(v.value, v.value.IsNull() ? v.mark : v.value.Mark(), "vars." + v.name);
  }
  check_assertions(m.assertions, renderer, roots);
  const char* scopes[2] = {kHostScope, kContainerScope};
  for (int i = 0; i < 2; ++i)
    if (m.sections[i]) render_section(m.sections[i], scopes[i], scopes[i], renderer, roots, out.state);
  if (m.shared) render_section(m.shared, kSharedSection, kHostScope, renderer, roots, out.shared);
  // A fragment's objects see the same roots; only the file its errors point into differs.
  for (const Fragment& f : m.fragments) {
    NodeRenderer fragment_renderer(f.file, env);
    for (int i = 0; i < 2; ++i)
      if (f.sections[i]) render_section(f.sections[i], scopes[i], scopes[i], fragment_renderer, roots, out.state);
  }
  if (m.result) out.result = render_result(m.result, renderer, roots, roots["prev"]["interfaces"]);
  return out;
}

}  // namespace topo
