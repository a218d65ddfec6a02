// YAML helpers shared by loading and rendering: positions for messages, strict key checks, plain-scalar
// typing and rendering a node (with its `${ }` pieces) to a JSON value.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "template/expression.h"
#include "template/tree.h"

namespace topo::tmpl {

// Where a message points: the file, a YAML node (its mark; 0-based in yaml-cpp, printed 1-based) and the
// path.
[[noreturn]] void fail_at(const std::string& file, const Mark& mark, const std::string& path,
                          const std::string& message);
[[noreturn]] void fail_at(const std::string& file, const Node& node, const std::string& path,
                          const std::string& message);

// The mark of a value; a null value (`key:` with nothing after it) has no useful mark of its own, so the
// key's is used.
Mark mark_of(const Node& value, const Node& key);

std::string node_kind(const Node& n);

// The value of `key` in a map; an undefined node (false in a condition) when it is absent.
Node find_key(const Node& map, const char* key);  // "a map", "a list", "a scalar", "nothing"

struct KeySpec {
  const char* name;
  bool required;
};

// Unknown, duplicate and missing keys of a map are errors; the node must be a map (`what` names it).
void check_map(const std::string& file, const Node& node, const std::string& path,
               std::string_view what, std::initializer_list<KeySpec> keys);
void check_map(const std::string& file, const Node& node, const std::string& path,
               std::string_view what, std::span<const KeySpec> keys);

// A scalar as YAML's core schema types it: plain `true`/`false`, `null`/`~`/empty, decimal or 0x ints; quoted
// scalars and everything else are strings.
nlohmann::json plain_scalar(const Node& scalar);

// Parses every `${ }` in a node tree, so syntax errors and unknown functions are load errors.
void check_expressions(const std::string& file, const Node& node, const std::string& path);

// The same for a `loop:`/`when:` value (see NodeRenderer::condition).
void check_condition(const std::string& file, const Node& node, const std::string& path);

// Renders a node: scalars are interpolated, lists and maps rendered element by element. Errors from
// expressions become SpecErrors at the scalar.
class NodeRenderer {
 public:
  NodeRenderer(const std::string& file, const EvalEnv& env) : file_(file), env_(env) {}
  nlohmann::json render(const Node& node, const std::string& path) const;
  nlohmann::json render(const Node& node, const Mark& mark, const std::string& path) const;
  // A `loop:`/`when:` value: a bare expression, or a scalar with `${ }`, or (loop only) a YAML list.
  nlohmann::json condition(const Node& node, const std::string& path) const;
  const std::string& file() const { return file_; }
  const EvalEnv& env() const { return env_; }

 private:
  const std::string& file_;
  const EvalEnv& env_;
};

// "host.routes[2]" + "dst" -> "host.routes[2].dst"
inline std::string join_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

// A `loop:` value of the item at `item_path` (objects, result lists, assertions): rendered as a condition;
// null loops over nothing, anything but a list is an error at it. Then `one(k, element)` for each element,
// with `item` and `index` bound in `roots`, and both unbound afterwards, also when `one` throws.
template <class F>
void for_each_looped(const Node& loop, const std::string& item_path, const NodeRenderer& renderer,
                     nlohmann::json& roots, F&& one) {
  nlohmann::json elements = renderer.condition(loop, join_path(item_path, "loop"));
  if (elements.is_null()) elements = nlohmann::json::array();  // e.g. an optional list parameter not set
  if (!elements.is_array())
    fail_at(renderer.file(), loop, join_path(item_path, "loop"), "expected a list to loop over, found " + describe_value(elements));
  struct Unbind {
    nlohmann::json& roots;
    ~Unbind() {
      roots.erase("item");
      roots.erase("index");
    }
  } unbind{roots};
  for (size_t k = 0; k < elements.size(); ++k) {
    roots["item"] = elements[k];
    roots["index"] = k;
    one(k, elements[k]);
  }
}

}  // namespace topo::tmpl
