#include "template/include.h"

#include <fmt/format.h>

#include "template/node.h"
#include "template/objects.h"
#include "template/parse.h"
#include "topo/model/scope.h"

namespace topo::tmpl {

namespace {

Fragment load_fragment(const TemplateSource& source, std::vector<ParamDecl>& params) {
  Fragment f{source.name, source.file, parse_template_text(source.file, source.text), {}, {}};
  f.root = f.tree->root();
  if (!f.root || f.root.IsNull()) fail_at(f.file, Mark::null_mark(), "", "the fragment is empty");
  // No `include` here: one level of reuse keeps where an object came from obvious (and cycles impossible).
  check_map(f.file, f.root, "", "a fragment",
            {{"description", false}, {"parameters", false}, {kHostScope, false}, {kContainerScope, false}});
  Node decls = find_key(f.root, "parameters");
  for (ParamDecl& p : load_parameters(f.file, decls)) {
    for (const ParamDecl& q : params)
      if (q.name == p.name) {
        Node key;
        for (auto it = decls.begin(); it != decls.end(); ++it)
          if (it->first.Scalar() == p.name) key = it->first;
        fail_at(f.file, key, "parameters." + p.name,
                fmt::format("parameter '{}' is already declared by the including template or an earlier "
                            "fragment; a fragment uses the template's parameter without declaring it",
                            p.name));
      }
    params.push_back(std::move(p));
  }
  const char* scopes[2] = {kHostScope, kContainerScope};
  for (int i = 0; i < 2; ++i) {
    f.sections[i] = find_key(f.root, scopes[i]);
    if (f.sections[i]) check_section(f.file, f.sections[i], scopes[i]);
  }
  return f;
}

}  // namespace

std::vector<Fragment> load_includes(const std::string& file, const Node& node,
                                    const TemplateLibrary* library, std::vector<ParamDecl>& params) {
  std::vector<Fragment> out;
  if (!node || node.IsNull()) return out;
  std::vector<Node> names;
  if (node.IsScalar()) {
    names.push_back(node);
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) names.push_back(node[i]);
  } else {
    fail_at(file, node, "include", "expected a fragment name or a list of them, found " + node_kind(node));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::string path = node.IsSequence() ? fmt::format("include[{}]", i) : "include";
    const Node& n = names[i];
    if (!n.IsScalar()) fail_at(file, n, path, "expected a fragment name, found " + node_kind(n));
    for (const Fragment& f : out)
      if (f.name == n.Scalar()) fail_at(file, n, path, fmt::format("fragment '{}' is included twice", f.name));
    if (!library)
      fail_at(file, n, path, "this template includes fragments, but it was loaded without a template library");
    auto source = library->find_fragment(std::string(n.Scalar()));
    if (!source)
      fail_at(file, n, path,
              fmt::format("no fragment named '{}' (looked for fragments/{}.yaml in the template directories)",
                          n.Scalar(), n.Scalar()));
    out.push_back(load_fragment(*source, params));
  }
  return out;
}

}  // namespace topo::tmpl
