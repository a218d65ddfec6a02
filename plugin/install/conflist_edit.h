// Edits of a CNI conflist (pure: text in, document out), so the installer can check everything before it
// writes anything. Key order is kept (ordered_json): an operator's diff of the file shows only our entry.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace topo::install {

using OrderedJson = nlohmann::ordered_json;

// A conflist: a JSON object with a "plugins" array of objects, each with a string "type". `where` names the
// source in errors (a path, or "--conflist-json").
OrderedJson parse_conflist(const std::string& text, const std::string& where);
// A plugin entry: a JSON object with a string "type".
OrderedJson parse_entry(const std::string& text, const std::string& where);

// `entry` placed right after the first plugin whose type is `after_type`. An entry for the same plugin (same
// type and same "template", absent counting as a value) already there is replaced in place when it comes
// after `after_type`, or moved after it when it comes before (a chained plugin before the one it chains on
// gets no prevResult); further copies are dropped, so running this twice gives one entry.
OrderedJson insert_after(OrderedJson conflist, const std::string& after_type, const OrderedJson& entry);

// The conflist without the plugins whose type is `type`, and how many there were.
struct Removal {
  OrderedJson conflist;
  size_t removed{};
};
Removal remove_type(OrderedJson conflist, const std::string& type);

// As written to disk: two-space indent, a final newline.
std::string render_conflist(const OrderedJson& conflist);

}  // namespace topo::install
