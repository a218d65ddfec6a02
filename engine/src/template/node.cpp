#include "template/node.h"

#include <fmt/format.h>

#include <set>

#include "topo/error.h"

namespace topo::tmpl {

void fail_at(const std::string& file, const Mark& mark, const std::string& path,
             const std::string& message) {
  bool known = mark.line >= 0 && mark.column >= 0;
  throw SpecError(file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, path, message);
}

void fail_at(const std::string& file, const Node& node, const std::string& path,
             const std::string& message) {
  fail_at(file, node.Mark(), path, message);
}

Mark mark_of(const Node& value, const Node& key) {
  return value.IsNull() ? key.Mark() : value.Mark();
}

Node find_key(const Node& map, const char* key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.Scalar() == key) return it->second;
  return Node();
}

std::string node_kind(const Node& n) {
  switch (n.Type()) {
    case NodeType::Map:
      return "a map";
    case NodeType::Sequence:
      return "a list";
    case NodeType::Scalar:
      return fmt::format("the scalar '{}'", n.Scalar());
    default:
      return "nothing";
  }
}

void check_map(const std::string& file, const Node& node, const std::string& path,
               std::string_view what, std::initializer_list<KeySpec> keys) {
  check_map(file, node, path, what, std::span<const KeySpec>(keys.begin(), keys.size()));
}

void check_map(const std::string& file, const Node& node, const std::string& path,
               std::string_view what, std::span<const KeySpec> keys) {
  if (!node.IsMap())
    fail_at(file, node, path, fmt::format("expected {} (a map), found {}", what, node_kind(node)));
  std::string names;
  for (auto& k : keys) names += (names.empty() ? "" : ", ") + std::string(k.name);
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    Node key = it->first;
    std::string name(key.IsScalar() ? key.Scalar() : "");
    bool known = false;
    for (auto& k : keys) known = known || name == k.name;
    if (!known)
      fail_at(file, key, join_path(path, name),
              fmt::format("unknown key '{}' in {}; expected one of: {}", name, what, names));
    if (!seen.insert(name).second)
      fail_at(file, key, join_path(path, name), fmt::format("duplicate key '{}'", name));
  }
  for (auto& k : keys)
    if (k.required && !seen.count(k.name))
      fail_at(file, node, join_path(path, k.name), fmt::format("{} needs the key '{}'", what, k.name));
}

nlohmann::json plain_scalar(const Node& n) {
  if (n.IsNull()) return nullptr;
  std::string_view sv = n.Scalar();
  if (n.Tag() != "?") return sv;  // quoted or explicitly tagged: a string as written
  const std::string s(sv);
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool hex = s.size() > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X');
  size_t digits = hex ? i + 2 : i;
  if (digits < s.size() &&
      s.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789", digits) == std::string::npos) {
    try {
      size_t used = 0;
      long long v = std::stoll(s, &used, hex ? 16 : 10);
      if (used == s.size()) return v;
    } catch (const std::out_of_range&) {
    }
  }
  return s;
}

namespace {
[[noreturn]] void expr_fail(const std::string& file, const Mark& mark, const std::string& path,
                            std::string_view text, const ExprError& e) {
  fail_at(file, mark, path, fmt::format("in \"{}\": {}", text, e.what()));
}

// HostFacts refuse with ConflictError (no such interface, a lookup the provider cannot do); the scalar that
// asked is what the author needs to see, so it is positioned here like an expression error.
[[noreturn]] void fact_fail(const std::string& file, const Mark& mark, const std::string& path,
                            std::string_view text, const ConflictError& e) {
  bool known = mark.line >= 0 && mark.column >= 0;
  throw HostFactError(file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, path,
                      fmt::format("in \"{}\": {}", text, e.what()));
}
}  // namespace

void check_condition(const std::string& file, const Node& node, const std::string& path) {
  if (!node.IsScalar() || node.Scalar().find("${") != std::string::npos)
    return check_expressions(file, node, path);
  try {
    parse_expression(node.Scalar());
  } catch (const ExprError& e) {
    expr_fail(file, node.Mark(), path, node.Scalar(), e);
  }
}

void check_expressions(const std::string& file, const Node& node, const std::string& path) {
  if (node.IsScalar()) {
    try {
      parse_interpolation(node.Scalar());
    } catch (const ExprError& e) {
      expr_fail(file, node.Mark(), path, node.Scalar(), e);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) check_expressions(file, node[i], fmt::format("{}[{}]", path, i));
  } else if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      check_expressions(file, it->second, join_path(path, it->first.Scalar()));
  }
}

nlohmann::json NodeRenderer::render(const Node& node, const std::string& path) const {
  return render(node, node.Mark(), path);
}

nlohmann::json NodeRenderer::render(const Node& node, const Mark& mark,
                                    const std::string& path) const {
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < node.size(); ++i) out.push_back(render(node[i], fmt::format("{}[{}]", path, i)));
    return out;
  }
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key(it->first.Scalar());
      out[key] = render(it->second, mark_of(it->second, it->first), join_path(path, key));
    }
    return out;
  }
  if (!node.IsScalar() || node.Scalar().find("${") == std::string::npos) return plain_scalar(node);
  try {
    return render_interpolation(parse_interpolation(node.Scalar()), env_);
  } catch (const ExprError& e) {
    expr_fail(file_, mark, path, node.Scalar(), e);
  } catch (const ConflictError& e) {
    fact_fail(file_, mark, path, node.Scalar(), e);
  }
}

nlohmann::json NodeRenderer::condition(const Node& node, const std::string& path) const {
  if (!node.IsScalar() || node.Scalar().find("${") != std::string::npos) return render(node, path);
  // A scalar without `${` is a bare expression, as in Ansible's `when:` (quoted or not: `loop: "[1, 2]"`
  // needs quotes in YAML).
  try {
    return evaluate(*parse_expression(node.Scalar()), env_);
  } catch (const ExprError& e) {
    expr_fail(file_, node.Mark(), path, node.Scalar(), e);
  } catch (const ConflictError& e) {
    fact_fail(file_, node.Mark(), path, node.Scalar(), e);
  }
}

}  // namespace topo::tmpl
