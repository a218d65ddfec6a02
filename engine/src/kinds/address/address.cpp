// The address kind: text, journal JSON, template fields, ownership and diff policy. Kernel I/O is in
// address_kernel.cpp, the netlink codec in address_codec.cpp.
#include <fmt/format.h>

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
}

void from_json(const json& j, Address& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "dev", v.dev);
  get_field(j, "address", v.local);
  v.nodad = j.value("nodad", false);
}

const tmpl::KindSchema& KindOps<Address>::schema() {
  static const tmpl::KindSchema s{"an address", {{"dev", true}, {"address", true}, {"nodad", false}}};
  return s;
}

void KindOps<Address>::build(tmpl::Fields& f, const std::string& scope, std::vector<Address>& out) {
  Address a;
  a.scope = scope;
  a.dev = *f.ifname("dev");
  a.local = *f.cidr("address");
  a.nodad = f.boolean("nodad").value_or(false);
  if (a.nodad && a.local.family() != Family::V6) f.fail("nodad", "nodad applies to IPv6 addresses only");
  out.push_back(std::move(a));
}

nlohmann::ordered_json KindOps<Address>::template_form(const Address& a) {
  nlohmann::ordered_json j;
  j["dev"] = a.dev;
  j["address"] = a.local.str();
  if (a.nodad) j["nodad"] = true;
  return j;
}

// Addresses we create carry IFA_PROTO 157 (encode_address writes it).
void KindOps<Address>::stamp(Address&, const OwnerMark&) {}
bool KindOps<Address>::owned(const Address& observed) { return observed.owned; }
bool KindOps<Address>::may_replace(const Address&, const Address& seen) { return seen.owned; }

}  // namespace topo
