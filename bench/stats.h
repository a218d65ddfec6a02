// Percentiles of a series of timings, and the markdown the tables are written in.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace bench {

struct Summary {
  size_t n{0};
  double p50{0}, p90{0}, max{0};
};

// Nearest-rank percentiles (no interpolation: every number printed was measured).
inline Summary summarize(std::vector<double> v) {
  Summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  s.p50 = rank(0.5);
  s.p90 = rank(0.9);
  s.max = v.back();
  return s;
}

inline std::string ms(double v) { return v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.2f}", v); }

inline std::string row(const std::string& what, const Summary& s, const std::string& note = "") {
  return fmt::format("| {} | {} | {} | {} | {} | {} |\n", what, s.n, ms(s.p50), ms(s.p90), ms(s.max), note);
}

inline const char* table_head() {
  return "| measurement | n | p50 ms | p90 ms | max ms | note |\n|---|---:|---:|---:|---:|---|\n";
}

}  // namespace bench
