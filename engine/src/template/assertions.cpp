#include "template/assertions.h"

#include <fmt/format.h>

#include "template/expression.h"
#include "topo/error.h"

namespace topo::tmpl {

std::vector<Assertion> load_assertions(const std::string& file, const Node& node, bool proven) {
  std::vector<Assertion> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence()) fail_at(file, node, "assert", "expected a list of assertions, found " + node_kind(node));
  for (size_t i = 0; i < node.size(); ++i) {
    Node item = node[i];
    std::string path = fmt::format("assert[{}]", i);
    check_map(file, item, path, "an assertion", {{"that", false}, {"message", false}, {"fail", false}, {"when", false}, {"loop", false}});
    Assertion a{find_key(item, "that"), find_key(item, "when"), {}, path, item.Mark(), find_key(item, "loop")};
    Node fail = find_key(item, "fail");
    if (a.that && (fail || a.when))
      fail_at(file, item, path, "an assertion is either {that: condition, message: text} or {fail: text, when: condition}");
    if (!a.that && !fail) fail_at(file, item, path, "an assertion needs `that:` (with `message:`) or `fail:`");
    a.message = a.that ? find_key(item, "message") : fail;
    if (!a.message) fail_at(file, item, join_path(path, "message"), "an assertion needs a message for the user");
    if (!proven) {
      if (a.that) check_condition(file, a.that, join_path(path, "that"));
      if (a.when) check_condition(file, a.when, join_path(path, "when"));
      if (a.loop) check_condition(file, a.loop, join_path(path, "loop"));
      check_expressions(file, a.message, join_path(path, a.that ? "message" : "fail"));
    }
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

void check_one(const Assertion& a, const NodeRenderer& renderer) {
  bool failed = a.that ? !truthy(renderer.condition(a.that, join_path(a.path, "that")))
                       : !a.when || truthy(renderer.condition(a.when, join_path(a.path, "when")));
  if (!failed) return;
  std::string key = a.that ? "message" : "fail";
  nlohmann::json message = renderer.render(a.message, join_path(a.path, key));
  throw TemplateAssertionError(renderer.file(), a.mark.line + 1, a.mark.column + 1, a.path,
                               message.is_string() ? message.get<std::string>() : message.dump());
}

}  // namespace

void check_assertions(const std::vector<Assertion>& assertions, const NodeRenderer& renderer, nlohmann::json& roots) {
  for (const Assertion& a : assertions) {
    if (!a.loop) {
      check_one(a, renderer);
      continue;
    }
    // One check per element, as a looped object item: `item` and `index` bound (a config map's entries,
    // with `items`).
    for_each_looped(a.loop, a.path, renderer, roots, [&](size_t, const nlohmann::json&) { check_one(a, renderer); });
  }
}

}  // namespace topo::tmpl
