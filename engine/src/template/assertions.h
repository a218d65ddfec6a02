// A template's own refusals: the `assert:` list. Each item fails the render with the template's message,
// at the item's position:
//   - that: ${ (prev.ips | ipv6 | length) == 0 or host_sysctl('net.ipv6.conf.all.disable_ipv6') == '0' }
//     message: this pod has IPv6 but the node has none
//   - fail: "hostInterface ${params.hostInterface} is the uplink itself"
//     when: ${ params.hostInterface == host_default_interface(4) }
// They are checked after `vars:` (which they may use) and before any object is rendered.
#pragma once

#include <string>
#include <vector>

#include "template/node.h"
#include "template/tree.h"

namespace topo::tmpl {

struct Assertion {
  Node that;     // fails when falsy (`that:` form)
  Node when;     // fails when truthy; absent: always (`fail:` form)
  Node message;  // `message:` or `fail:`, rendered
  std::string path;    // "assert[2]"
  Mark mark;     // the item's position
  Node loop;     // optional: checked once per element, with `item` and `index` bound
};

// `proven`: a built-in, whose expressions the generator already parsed (template.cpp); they are not parsed
// again just to be checked.
std::vector<Assertion> load_assertions(const std::string& file, const Node& node, bool proven = false);

// Throws TemplateAssertionError (topo/error.h) for the first assertion that fails.
// `roots` gets `item`/`index` while a looped assertion is checked (the renderer's environment reads them).
void check_assertions(const std::vector<Assertion>& assertions, const NodeRenderer& renderer, nlohmann::json& roots);

}  // namespace topo::tmpl
