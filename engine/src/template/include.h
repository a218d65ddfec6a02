// Reuse: a template's `include:` names fragments (DIR/fragments/NAME.yaml) whose parameters join the
// template's and whose host/container objects are rendered with the template's roots. Everything a fragment
// gets wrong is reported in the fragment's own file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "template/tree.h"
#include "template/params.h"
#include "topo/template/template.h"

namespace topo::tmpl {

struct Fragment {
  std::string name;
  std::string file;  // for messages: every error in the fragment points here
  std::shared_ptr<const Tree> tree;  // what root and sections point into
  Node root;
  Node sections[2];  // host, container (undefined when absent)
};

// Loads and checks the fragments `node` (a name or a list of names) refers to, appending their parameters
// to `params` (a name declared twice is an error in the fragment). `file` is the including template's.
std::vector<Fragment> load_includes(const std::string& file, const Node& node,
                                    const TemplateLibrary* library, std::vector<ParamDecl>& params);

}  // namespace topo::tmpl
