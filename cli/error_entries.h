// Where an error's object sits in a template's text, so that `topoctl validate` can set it aside and look for
// the next error: the lines of the deepest list item on the error's path (an object, a parameter, a var),
// or of its top-level entry.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace topo::cli {

// [first, last] 0-based lines of the entry that holds `path` ("host.links[2].mtu" → the lines of links item 2,
// "vars.x" → the var x, "name" → the top-level key), or nullopt when the text does not parse or the path names
// nothing in it.
std::optional<std::pair<int, int>> entry_lines(const std::string& text, const std::string& path);

// `text` with lines [first, last] emptied: every other line keeps its number, so later errors keep their
// positions.
std::string blank_lines(const std::string& text, std::pair<int, int> lines);

}  // namespace topo::cli
