// compile_templates: the build step that turns specs/*.yaml into the built-in templates of the engine.
//
//   topo_compile_templates OUTPUT.cpp specs/a.yaml specs/b.yaml ...
//
// Each template is parsed and loaded exactly as the plugin loads one (Template::load: structure, parameter
// declarations, every `${ }`), so a broken spec fails the build with the plugin's own message, positioned in
// its file. The output holds, per template, its text (for topoctl) and its YAML tree as a table of nodes
// (template/compiled.h), which an ADD rebuilds without scanning any text.
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
#include "topo/error.h"
#include "topo/template/template.h"

// The generator is what makes the built-ins, so it runs without any: the engine's TemplateLibrary links
// against these two, which the generated file defines for every other program.
namespace topo {
const std::map<std::string, std::string>& builtin_templates() {
  static const std::map<std::string, std::string> none;
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

class Flattener {
 public:
  explicit Flattener(const std::string& file) : file_(file) {}

  // One initializer per node, in the pre-order build_tree() reads.
  void add(const YAML::Node& node) {
    // An alias is the same node reached twice; the table would turn it into two copies, so refuse it
    // rather than build a tree that differs from the parsed one.
    for (const YAML::Node& seen : seen_)
      if (seen.is(node))
        topo::tmpl::fail_at(file_, node.Mark(), "", "anchors and aliases are not supported in built-in templates");
    seen_.push_back(node);
    const YAML::Mark m = node.Mark();
    size_t size = node.IsMap() || node.IsSequence() ? node.size() : 0;
    rows_.push_back(fmt::format("{{{}, {}, {}, {}, {}, {}, {}, {}}}", static_cast<int>(node.Type()),
                                static_cast<int>(node.Style()), m.pos, m.line, m.column, size, literal(node.Tag()),
                                literal(node.IsScalar() ? node.Scalar() : std::string())));
    if (node.IsSequence())
      for (const YAML::Node& item : node) add(item);
    if (node.IsMap())
      for (auto it = node.begin(); it != node.end(); ++it) add(it->first), add(it->second);
  }
  const std::vector<std::string>& rows() const { return rows_; }

 private:
  const std::string& file_;
  std::vector<YAML::Node> seen_;
  std::vector<std::string> rows_;
};

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
      Flattener flat(source.file);
      flat.add(topo::tmpl::parse_template_text(source.file, text));
      std::string symbol = fmt::format("tree_{}", symbols.size());
      symbols[name] = symbol;
      tables += fmt::format("// {}: {} nodes\nconstexpr CompiledNode {}[] = {{\n", path.filename().string(),
                            flat.rows().size(), symbol);
      for (const std::string& row : flat.rows()) tables += "    " + row + ",\n";
      tables += "};\n\n";
    }
  } catch (const std::exception& e) {
    // SpecError's text already starts with file:line:column.
    std::fprintf(stderr, "topo_compile_templates: %s\n", e.what());
    return 1;
  }

  std::string out = "// Generated from specs/*.yaml by engine/gen/compile_templates.cpp. Do not edit.\n";
  out += "#include \"template/builtin.h\"\n#include \"template/compiled.h\"\n\nnamespace topo {\n\nnamespace {\n\n";
  out += "using tmpl::CompiledNode;\n\n" + tables;
  out += "struct Entry {\n  const char* name;\n  CompiledTemplate compiled;\n};\n\nconstexpr Entry kCompiled[] = {\n";
  for (const auto& [name, symbol] : symbols) out += fmt::format("    {{{}, {{{}}}}},\n", literal(name), symbol);
  out += "};\n\n}  // namespace\n\n";
  out += "const std::map<std::string, std::string>& builtin_templates() {\n"
         "  static const std::map<std::string, std::string> templates = {\n";
  for (const auto& [name, text] : texts)
    out += fmt::format("      {{{},\n       std::string({}, {})}},\n", literal(name), literal(text), text.size());
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
