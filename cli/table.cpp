#include "table.h"

#include <algorithm>

namespace topo::cli {

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<std::string (*)(const std::string&, bool)>& paint, bool color) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      line += rows[r][i];
      if (i + 1 < rows[r].size()) line += std::string(width[i] - rows[r][i].size() + 2, ' ');
    }
    if (r < paint.size() && paint[r]) line = paint[r](line, color);
    out += line + "\n";
  }
  return out;
}

}  // namespace topo::cli
