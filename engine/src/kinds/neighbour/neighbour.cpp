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
  // A multicast or all-zero link-layer address is never a neighbour's: the kernel would accept it, and every
  // packet to the address would go nowhere or everywhere.
  n.lladdr = *f.unicast_mac("lladdr");
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
