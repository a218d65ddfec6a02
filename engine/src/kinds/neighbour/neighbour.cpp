// The neighbour kind: static ARP (IPv4) and NDP (IPv6) entries. Text, journal JSON, template fields,
// ownership and diff policy. Kernel I/O is in neighbour_kernel.cpp, the netlink codec in neighbour_codec.cpp.
#include <fmt/format.h>

#include <cctype>

#include "kinds/absent.h"
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
  j = {{"namespace", v.scope}, {"dev", v.dev}, {"address", v.address}};
  // An absent entry is only its key: it has no lladdr.
  if (v.absent)
    j["state"] = "absent";
  else
    j["lladdr"] = v.lladdr.str();
  if (v.protocol != kOwnerProtocol) j["protocol"] = v.protocol;  // a foreign entry's (takenOver)
}

void from_json(const json& j, Neighbour& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "dev", v.dev);
  get_field(j, "address", v.address);
  v.absent = j.value("state", "present") == "absent";
  v.protocol = field_or(j, "protocol", kOwnerProtocol);
  if (v.absent) return;
  auto mac = MacAddress::parse(j.at("lladdr").get<std::string>());
  if (!mac) throw Error("not a MAC address: " + j.at("lladdr").dump());
  v.lladdr = *mac;
}

const tmpl::KindSchema& KindOps<Neighbour>::schema() {
  static const tmpl::KindSchema s{"a neighbour", {{"dev", true}, {"address", true}, {"lladdr", false}, {"state", false}}};
  return s;
}

void KindOps<Neighbour>::build(tmpl::Fields& f, const std::string& scope, std::vector<Neighbour>& out) {
  Neighbour n;
  n.scope = scope;
  n.dev = f.required(&tmpl::Fields::ifname, "dev");
  n.address = f.required(&tmpl::Fields::ip, "address");
  n.absent = read_absent(f, "a neighbour", "dev and address", {"lladdr"});
  if (n.absent) {
    out.push_back(std::move(n));
    return;
  }
  // Required only for a present entry (the schema cannot say so).
  if (!f.has("lladdr")) f.fail("lladdr", "a neighbour needs the key 'lladdr' (unless it has state: absent)");
  // A multicast or all-zero link-layer address is never a neighbour's: the kernel would accept it, and every
  // packet to the address would go nowhere or everywhere.
  n.lladdr = f.required(&tmpl::Fields::unicast_mac, "lladdr");
  out.push_back(std::move(n));
}

nlohmann::ordered_json KindOps<Neighbour>::template_form(const Neighbour& n) {
  nlohmann::ordered_json j;
  j["dev"] = n.dev;
  j["address"] = n.address.str();
  if (n.absent)
    j["state"] = "absent";
  else
    j["lladdr"] = n.lladdr.str();
  return j;
}

// Entries we create carry NDA_PROTOCOL 157 (encode_neighbour writes it).
void KindOps<Neighbour>::stamp(Neighbour&, const OwnerMark&) {}
bool KindOps<Neighbour>::owned(const Neighbour& observed) { return observed.owned; }
// A dynamic entry the kernel learnt (or someone else's) for the address is never overwritten.
bool KindOps<Neighbour>::may_replace(const Neighbour&, const Neighbour& seen) { return seen.owned; }

}  // namespace topo
