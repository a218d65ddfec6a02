// The neighbour kind: static ARP (IPv4) and NDP (IPv6) entries. Text, journal JSON, template fields,
// ownership and diff policy. Kernel I/O is in neighbour_kernel.cpp, the netlink codec in neighbour_codec.cpp.
#include <fmt/format.h>

#include <cctype>

#include "kinds/neighbour/neighbour_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "template/schema.h"
#include "topo/error.h"

namespace topo {

using nlohmann::json;

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  // Exactly six pairs of hex digits separated by ':' (17 characters), as ip-link(8) and ip-neighbour(8) print.
  if (text.size() != 17) return std::nullopt;
  MacAddress m;
  for (size_t i = 0; i < 6; ++i) {
    size_t at = i * 3;
    if (i > 0 && text[at - 1] != ':') return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hex(text[at]), lo = hex(text[at + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    m.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return m;
}

std::string MacAddress::str() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4],
                     bytes[5]);
}

std::string describe(const Neighbour& n) {
  return fmt::format("neighbour {} lladdr {} dev {} nud permanent", n.address.str(), n.lladdr.str(), n.dev);
}

void to_json(json& j, const Neighbour& v) {
  j = {{"namespace", v.scope}, {"dev", v.dev}, {"address", v.address}, {"lladdr", v.lladdr.str()}};
}

void from_json(const json& j, Neighbour& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "dev", v.dev);
  get_field(j, "address", v.address);
  auto mac = MacAddress::parse(j.at("lladdr").get<std::string>());
  if (!mac) throw Error("not a MAC address: " + j.at("lladdr").dump());
  v.lladdr = *mac;
}

const tmpl::KindSchema& KindOps<Neighbour>::schema() {
  static const tmpl::KindSchema s{"a neighbour", {{"dev", true}, {"address", true}, {"lladdr", true}}};
  return s;
}

void KindOps<Neighbour>::build(tmpl::Fields& f, const std::string& scope, std::vector<Neighbour>& out) {
  Neighbour n;
  n.scope = scope;
  n.dev = *f.ifname("dev");
  n.address = *f.ip("address");
  std::string mac = *f.string("lladdr");
  auto parsed = MacAddress::parse(mac);
  if (!parsed) f.fail("lladdr", fmt::format("'{}' is not a MAC address (six hex pairs: aa:bb:cc:dd:ee:ff)", mac));
  // A multicast or all-zero link-layer address is never a neighbour's: the kernel would accept it, and every
  // packet to the address would go nowhere or everywhere.
  if ((parsed->bytes[0] & 1) || *parsed == MacAddress{})
    f.fail("lladdr", fmt::format("{} is a multicast or zero address, not a neighbour's", mac));
  n.lladdr = *parsed;
  out.push_back(std::move(n));
}

nlohmann::ordered_json KindOps<Neighbour>::template_form(const Neighbour& n) {
  nlohmann::ordered_json j;
  j["dev"] = n.dev;
  j["address"] = n.address.str();
  j["lladdr"] = n.lladdr.str();
  return j;
}

// Entries we create carry NDA_PROTOCOL 157 (encode_neighbour writes it).
void KindOps<Neighbour>::stamp(Neighbour&, const OwnerMark&) {}
bool KindOps<Neighbour>::owned(const Neighbour& observed) { return observed.owned; }
// A dynamic entry the kernel learnt (or someone else's) for the address is never overwritten.
bool KindOps<Neighbour>::may_replace(const Neighbour&, const Neighbour& seen) { return seen.owned; }

}  // namespace topo
