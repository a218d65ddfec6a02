#include "kinds/rule/mark_value.h"

#include <string>

namespace topo {

namespace {

std::optional<uint32_t> number(const std::string& s) {
  try {
    size_t used = 0;
    unsigned long long n = std::stoull(s, &used, 0);
    if (used == s.size() && n <= 0xFFFFFFFFULL && s[0] != '-' && s[0] != '+') return static_cast<uint32_t>(n);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

std::optional<ParsedMark> parse_mark(const nlohmann::json& v) {
  if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 0xFFFFFFFFLL)
    return ParsedMark{static_cast<uint32_t>(v.get<int64_t>()), std::nullopt};
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  const auto slash = s.find('/');
  auto value = number(s.substr(0, slash));
  if (!value) return std::nullopt;
  if (slash == std::string::npos) return ParsedMark{*value, std::nullopt};
  auto mask = number(s.substr(slash + 1));
  if (!mask) return std::nullopt;
  return ParsedMark{*value, mask};
}

}  // namespace topo
