#include "error_entries.h"

#include <yaml-cpp/yaml.h>

#include <sstream>
#include <vector>

namespace topo::cli {

namespace {

// "host.links[2].mtu" → {"host", "links", "[2]", "mtu"}.
std::vector<std::string> steps_of(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == '.' || c == '[') {
      if (!cur.empty()) out.push_back(cur);
      cur = c == '[' ? "[" : "";
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t indent_of(const std::string& line) { return line.find_first_not_of(' '); }

}  // namespace

std::optional<std::pair<int, int>> entry_lines(const std::string& text, const std::string& path) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
  std::optional<int> start;
  int depth = 0;
  for (const std::string& step : steps_of(path)) {
    ++depth;
    if (!node || !(node.IsMap() || node.IsSequence())) break;
    if (step.front() == '[') {
      if (!node.IsSequence()) break;
      size_t i = std::stoul(step.substr(1));
      if (i >= node.size()) break;
      node = node[i];
      start = node.Mark().line;  // the deepest list item wins
      continue;
    }
    if (!node.IsMap()) break;
    YAML::Node next;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.Scalar() != step) continue;
      // A top-level key, or a parameter's or var's entry, unless a list item below is found.
      if (depth <= 2 && (!start || depth == 1)) start = it->first.Mark().line;
      next = it->second;
    }
    if (!next) break;
    node = next;
  }
  if (!start || *start < 0) return std::nullopt;
  std::vector<std::string> lines = lines_of(text);
  if (static_cast<size_t>(*start) >= lines.size()) return std::nullopt;
  // The entry goes on while lines are blank, comments or indented deeper than its first line.
  size_t base = indent_of(lines[*start]);
  int last = *start;
  for (size_t i = *start + 1; i < lines.size(); ++i) {
    size_t ind = indent_of(lines[i]);
    if (ind == std::string::npos || lines[i][ind] == '#') continue;
    if (ind <= base) break;
    last = static_cast<int>(i);
  }
  return std::pair{*start, last};
}

std::string blank_lines(const std::string& text, std::pair<int, int> range) {
  std::vector<std::string> lines = lines_of(text);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (static_cast<int>(i) < range.first || static_cast<int>(i) > range.second) out += lines[i];
    out += '\n';
  }
  return out;
}

}  // namespace topo::cli
