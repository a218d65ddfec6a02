#include "common.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cni/cni.h"
#include "topo/error.h"

namespace topo::cli {

using nlohmann::json;

bool use_color(bool no_color) {
  const char* env = std::getenv("NO_COLOR");
  return !no_color && !(env && *env) && isatty(STDOUT_FILENO);
}

namespace {
std::string sgr(const char* code, const std::string& text, bool on) {
  return on ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
}
}  // namespace

std::string green(const std::string& text, bool on) { return sgr("32", text, on); }
std::string red(const std::string& text, bool on) { return sgr("31", text, on); }
std::string yellow(const std::string& text, bool on) { return sgr("33", text, on); }
std::string dim(const std::string& text, bool on) { return sgr("2", text, on); }

json parse_assignments(const std::vector<std::string>& pairs, const std::string& option) {
  json out = json::object();
  for (const std::string& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(fmt::format("{} '{}': expected key=value", option, pair));
    }
    std::string key = pair.substr(0, eq), text = pair.substr(eq + 1);
    // JSON first, so numbers, booleans and lists arrive typed; a bare word or an address is a string.
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    out[key] = value.is_discarded() ? json(text) : value;
  }
  return out;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot read", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json_file(const std::string& path) {
  std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    int line = 1, column = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw SpecError(path, line, column, "", fmt::format("invalid JSON: {}", e.what()));
  }
}

SpecError locate_set(const SpecError& e) {
  if (e.file != "<network config>") return e;
  std::string key = e.path.starts_with("config.") ? e.path.substr(7) : e.path;
  return SpecError("--set", 0, 0, key, e.message);
}

void print_error(const std::exception& e) {
  if (const auto* c = dynamic_cast<const cni::Error*>(&e)) {
    std::cerr << "topoctl: " << c->msg << (c->details.empty() ? "" : " (" + c->details + ")") << "\n";
  } else if (dynamic_cast<const SpecError*>(&e)) {
    std::cerr << e.what() << "\n";  // already "file:line:col: path: message", as compilers print
  } else if (const auto* d = dynamic_cast<const DriftError*>(&e)) {
    std::cerr << "topoctl: " << e.what() << " (" << fmt::format("{}", fmt::join(d->differences, "; ")) << ")\n";
  } else if (const auto* i = dynamic_cast<const IncompleteError*>(&e)) {
    std::cerr << "topoctl: " << e.what() << " (" << fmt::format("{}", fmt::join(i->failures, "; ")) << ")\n";
  } else if (const auto* t = dynamic_cast<const TemplateNotFoundError*>(&e)) {
    std::cerr << "topoctl: " << e.what() << " (" << t->searched << ")\n";
  } else {
    std::cerr << "topoctl: " << e.what() << "\n";
  }
}

}  // namespace topo::cli
