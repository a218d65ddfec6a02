// Left-aligned text columns for human output (`templates`, `show`), widths from the widest cell.
#pragma once

#include <string>
#include <vector>

namespace topo::cli {

// Rows of cells; the last column is not padded. `paint[i]`, if given, wraps row i's text after padding (so
// escape codes do not count towards widths).
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<std::string (*)(const std::string&, bool)>& paint = {},
                         bool color = false);

}  // namespace topo::cli
