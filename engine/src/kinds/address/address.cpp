// The address kind: text, journal JSON, template fields, ownership and diff policy. Kernel I/O is in
// address_kernel.cpp, the netlink codec in address_codec.cpp.
#include <fmt/format.h>

#include "kinds/absent.h"
#include "kinds/address/address_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

std::string describe(const Address& a) {
  return fmt::format("address {} dev {}{}", a.local.str(), a.dev, a.nodad ? " nodad" : "");
}

void to_json(json& j, const Address& v) {
  j = {{"namespace", v.scope}, {"dev", v.dev}, {"address", v.local}};
  if (v.nodad) j["nodad"] = true;
  if (v.absent) j["state"] = "absent";
  // A foreign address's own attributes (takenOver); ours have the defaults, which are not written.
  if (v.protocol != kOwnerProtocol) j["protocol"] = v.protocol;
  if (v.ifa_scope) j["scope"] = v.ifa_scope;
  put_optional(j, "broadcast", v.broadcast);
  if (!v.label.empty()) j["label"] = v.label;
  if (v.flags) j["flags"] = v.flags;
}

void from_json(const json& j, Address& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "dev", v.dev);
  get_field(j, "address", v.local);
  v.nodad = j.value("nodad", false);
  v.absent = j.value("state", "present") == "absent";
  v.protocol = field_or(j, "protocol", kOwnerProtocol);
  v.ifa_scope = field_or(j, "scope", uint8_t{0});
  get_field(j, "broadcast", v.broadcast);
  get_field(j, "label", v.label);
  v.flags = field_or(j, "flags", uint32_t{0});
}

const tmpl::KindSchema& KindOps<Address>::schema() {
  static const tmpl::KindSchema s{"an address", {{"dev", true}, {"address", true}, {"nodad", false}, {"state", false}}};
  return s;
}

void KindOps<Address>::build(tmpl::Fields& f, const std::string& scope, std::vector<Address>& out) {
  Address a;
  a.scope = scope;
  a.dev = f.required(&tmpl::Fields::ifname, "dev");
  a.local = f.required(&tmpl::Fields::cidr, "address");
  // Absent: the key is the device and the address with its prefix length (10.0.0.5/24 and 10.0.0.5/32 are
  // two addresses to the kernel).
  a.absent = read_absent(f, "an address", "dev and address/prefix", {"nodad"});
  a.nodad = f.boolean("nodad").value_or(false);
  if (a.nodad && a.local.family() != Family::V6) f.fail("nodad", "nodad applies to IPv6 addresses only");
  out.push_back(std::move(a));
}

nlohmann::ordered_json KindOps<Address>::template_form(const Address& a) {
  nlohmann::ordered_json j;
  j["dev"] = a.dev;
  j["address"] = a.local.str();
  if (a.nodad) j["nodad"] = true;
  if (a.absent) j["state"] = "absent";
  return j;
}

// Addresses we create carry IFA_PROTO 157 (encode_address writes it).
void KindOps<Address>::stamp(Address&, const OwnerMark&) {}
bool KindOps<Address>::owned(const Address& observed) { return observed.owned; }
bool KindOps<Address>::may_replace(const Address&, const Address& seen) { return seen.owned; }

}  // namespace topo
