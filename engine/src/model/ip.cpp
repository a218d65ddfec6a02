#include "topo/model/ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace topo {

std::string_view family_name(Family f) { return f == Family::V4 ? "ipv4" : "ipv6"; }

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::V4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::V6;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(static_cast<int>(family), bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::is_link_local() const {
  if (family == Family::V4) return bytes[0] == 169 && bytes[1] == 254;
  return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return IpPrefix::host(*addr);
  auto len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  unsigned len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + static_cast<unsigned>(c - '0');
  }
  if (len > addr->max_prefix()) return std::nullopt;
  return IpPrefix{*addr, static_cast<uint8_t>(len)};
}

IpPrefix IpPrefix::network() const {
  IpPrefix n = *this;
  for (size_t bit = len; bit < addr.size() * 8; ++bit) n.addr.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
  return n;
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != addr.family) return false;
  return IpPrefix{a, len}.network() == network();
}

std::string IpPrefix::str() const { return addr.str() + "/" + std::to_string(len); }

}  // namespace topo
