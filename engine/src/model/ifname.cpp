#include "topo/model/ifname.h"

#include <fmt/format.h>

#include <cctype>

namespace topo {

// `s` with control characters (a NUL, a newline) escaped, for messages.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    out += c < 0x20 || c == 0x7f ? fmt::format("\\x{:02x}", c) : std::string(1, static_cast<char>(c));
  return out;
}

std::optional<std::string> bad_ifname(const std::string& name) {
  if (name.empty()) return "an interface name cannot be empty";
  if (name.size() > 15)
    return fmt::format("'{}' is {} characters long; interface names have at most 15", printable(name), name.size());
  if (name == "." || name == "..") return fmt::format("'{}' is not a legal interface name", name);
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') continue;
    std::string shown = std::isspace(c) ? std::string("whitespace")
                        : std::isprint(c) ? fmt::format("'{}'", static_cast<char>(c))
                                          : fmt::format("byte 0x{:02x}", c);
    return fmt::format("'{}' contains {}; interface names here are letters, digits, '_', '-' and '.'",
                       printable(name), shown);
  }
  return std::nullopt;
}

}  // namespace topo
