// compile_templates: the build step that turns specs/*.yaml into the built-in templates of the engine.
//
//   topo_compile_templates OUTPUT.cpp specs/a.yaml specs/b.yaml ...
//
// Each template is parsed and loaded exactly as the plugin loads one (Template::load: structure, parameter
// declarations, every `${ }`), so a broken spec fails the build with the plugin's own message, positioned in
// its file. The output holds, per template, its text (for topoctl) and its YAML tree as a table of nodes
// (template/compiled.h, template/tree.h), which an ADD reads in place: no text scanned, no node built.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "template/builtin.h"
#include "template/compiled.h"
#include "template/node.h"
#include "template/parse.h"
#include "template/tree.h"
#include "topo/error.h"
#include "topo/template/template.h"

// The generator is what makes the built-ins, so it runs without any: the engine's TemplateLibrary links
// against these two, which the generated file defines for every other program.
namespace topo {
const std::map<std::string_view, std::string_view>& builtin_templates() {
  static const std::map<std::string_view, std::string_view> none;
  return none;
}
const CompiledTemplate* builtin_compiled(const std::string&) { return nullptr; }
}  // namespace topo

namespace {

// A C++ string literal of any bytes: octal escapes are always three digits, so the next character can never
// extend one.
std::string literal(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\')
      out += '\\', out += static_cast<char>(c);
    else if (c == '\n')
      out += "\\n\"\n\"";  // one source line per text line keeps the generated file readable
    else if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\{:03o}", c);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

// An alias is the same node reached twice; the table would turn it into two copies, so it is refused
// rather than building a tree that differs from the parsed one.
void refuse_aliases(const std::string& file, const YAML::Node& node, std::vector<YAML::Node>& seen) {
  for (const YAML::Node& s : seen)
    if (s.is(node)) {
      const YAML::Mark m = node.Mark();
      topo::tmpl::fail_at(file, topo::tmpl::Mark{m.pos, m.line, m.column}, "",
                          "anchors and aliases are not supported in built-in templates");
    }
  seen.push_back(node);
  if (node.IsSequence())
    for (const YAML::Node& item : node) refuse_aliases(file, item, seen);
  if (node.IsMap())
    for (auto it = node.begin(); it != node.end(); ++it) refuse_aliases(file, it->first, seen), refuse_aliases(file, it->second, seen);
}

// One initializer per node of the flattened tree, in its order.
std::vector<std::string> rows_of(const topo::tmpl::Tree& tree) {
  std::vector<std::string> rows;
  for (const topo::tmpl::TreeNode& n : tree.nodes())
    rows.push_back(fmt::format("{{NodeType({}), {}, {}, {}, {}, {}, {}, {}, {}}}", static_cast<int>(n.type), n.style,
                               n.pos, n.line, n.column, n.size, n.span, literal(n.tag), literal(n.scalar)));
  return rows;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: topo_compile_templates OUTPUT.cpp TEMPLATE.yaml...\n");
    return 2;
  }
  std::map<std::string, std::string> texts;  // name -> text, sorted as builtin_templates() iterates
  std::string tables;
  std::map<std::string, std::string> symbols;  // name -> table variable
  try {
    for (int i = 2; i < argc; ++i) {
      std::filesystem::path path = argv[i];
      std::string name = path.stem().string();
      std::string text = read(path);
      if (!texts.emplace(name, text).second) throw std::runtime_error("two templates named " + name);
      // Messages name the file in specs/ itself, so an editor jumps to the line from the build log.
      topo::TemplateSource source{name, path.string(), text, true};
      topo::Template::load(source);
      std::vector<YAML::Node> seen;
      YAML::Node yaml = topo::tmpl::parse_yaml(source.file, text);
      refuse_aliases(source.file, yaml, seen);
      std::vector<std::string> rows = rows_of(topo::tmpl::Tree(yaml));
      std::string symbol = fmt::format("tree_{}", symbols.size());
      symbols[name] = symbol;
      tables += fmt::format("// {}: {} nodes\nconstexpr TreeNode {}[] = {{\n", path.filename().string(),
                            rows.size(), symbol);
      for (const std::string& row : rows) tables += "    " + row + ",\n";
      tables += "};\n\n";
    }
  } catch (const std::exception& e) {
    // SpecError's text already starts with file:line:column.
    std::fprintf(stderr, "topo_compile_templates: %s\n", e.what());
    return 1;
  }

  std::string out = "// Generated from specs/*.yaml by engine/gen/compile_templates.cpp. Do not edit.\n";
  out += "#include \"template/builtin.h\"\n#include \"template/compiled.h\"\n\nnamespace topo {\n\nnamespace {\n\n";
  out += "using tmpl::NodeType;\nusing tmpl::TreeNode;\n\n" + tables;
  out += "struct Entry {\n  const char* name;\n  CompiledTemplate compiled;\n};\n\nconstexpr Entry kCompiled[] = {\n";
  for (const auto& [name, symbol] : symbols) out += fmt::format("    {{{}, {{{}}}}},\n", literal(name), symbol);
  out += "};\n\n}  // namespace\n\n";
  out += "const std::map<std::string_view, std::string_view>& builtin_templates() {\n"
         "  static const std::map<std::string_view, std::string_view> templates = {\n";
  for (const auto& [name, text] : texts)
    out += fmt::format("      {{{},\n       std::string_view({}, {})}},\n", literal(name), literal(text), text.size());
  out += "  };\n  return templates;\n}\n\n";
  out += "const CompiledTemplate* builtin_compiled(const std::string& name) {\n"
         "  for (const Entry& e : kCompiled)\n"
         "    if (name == e.name) return &e.compiled;\n"
         "  return nullptr;\n}\n\n}  // namespace topo\n";

  // Written only when every template compiled: a failed build leaves no half-made file behind.
  std::string output = argv[1], temp = output + ".tmp";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f << out;
    if (!f.flush()) {
      std::fprintf(stderr, "topo_compile_templates: cannot write %s\n", temp.c_str());
      return 1;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, output, ec);
  if (ec) {
    std::fprintf(stderr, "topo_compile_templates: cannot write %s: %s\n", output.c_str(), ec.message().c_str());
    return 1;
  }
  return 0;
}
