// The built-in templates are compiled in with their comment lines emptied (engine/embed_templates.cmake).
// That must change nothing but speed: each embedded text is the same YAML tree as its file in specs/, with
// every node at the same line and column, so messages about a built-in template point into specs/.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "template/builtin.h"

namespace {

// Describes the first difference between two trees, or returns "" when they are the same.
std::string first_difference(const YAML::Node& a, const YAML::Node& b, const std::string& path) {
  auto where = [&](const YAML::Node& n) { return std::to_string(n.Mark().line + 1) + ":" + std::to_string(n.Mark().column + 1); };
  if (a.Type() != b.Type()) return path + ": node types differ";
  if (where(a) != where(b)) return path + ": at " + where(a) + " in specs/, at " + where(b) + " embedded";
  if (a.Tag() != b.Tag()) return path + ": tags differ";
  if (a.IsScalar()) return a.Scalar() == b.Scalar() ? "" : path + ": '" + a.Scalar() + "' became '" + b.Scalar() + "'";
  if (a.size() != b.size()) return path + ": sizes differ";
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (auto d = first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    std::string key = path + "." + ia->first.Scalar();
    if (auto d = first_difference(ia->first, ib->first, key + " (key)"); !d.empty()) return d;
    if (auto d = first_difference(ia->second, ib->second, key); !d.empty()) return d;
  }
  return "";
}

}  // namespace

TEST_CASE("every built-in template is its specs/ file, comment lines emptied, node for node and line for line") {
  const auto& builtins = topo::builtin_templates();
  REQUIRE(builtins.size() >= 4);
  for (const auto& [name, text] : builtins) {
    CAPTURE(name);
    std::ifstream in(std::string(TOPO_SOURCE_DIR) + "/specs/" + name + ".yaml");
    REQUIRE(in);
    std::stringstream file;
    file << in.rdbuf();
    CHECK(text.size() < file.str().size());  // the comments are gone...
    CHECK(first_difference(YAML::Load(file.str()), YAML::Load(text), name) == "");  // ...and nothing else
    CHECK(text.find("\n#") == std::string::npos);
  }
}
