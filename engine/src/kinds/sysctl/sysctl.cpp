// The sysctl kind: a net.* setting of a namespace. It carries no ownership mark: a declared setting wins over
// what is there, and DEL restores the value journaled before the first write instead of deleting anything.
#include <fmt/format.h>

#include "kinds/sysctl/sysctl_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "kinds/absent.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

std::string describe(const Sysctl& s) { return fmt::format("sysctl {} = {}", s.name, s.value); }

void to_json(json& j, const Sysctl& v) {
  j = {{"namespace", v.scope}, {"name", v.name}, {"value", v.value}};
  put_optional(j, "previous", v.previous);
}

void from_json(const json& j, Sysctl& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "name", v.name);
  get_field(j, "value", v.value);
  get_field(j, "previous", v.previous);
}

const tmpl::KindSchema& KindOps<Sysctl>::schema() {
  static const tmpl::KindSchema s{"a sysctl", {{"name", true}, {"value", true}, {"state", false}}};
  return s;
}

void KindOps<Sysctl>::build(tmpl::Fields& f, const std::string& scope, std::vector<Sysctl>& out) {
  Sysctl s;
  s.scope = scope;
  s.name = f.required(&tmpl::Fields::string, "name");
  refuse_absent(f, "a sysctl", "a sysctl always exists while its namespace (and interface) does: give it a value");
  // Only net.* is per network namespace; anything else would change the whole node, which a CNI plugin must
  // not do on a template's say-so. Empty segments would let a name walk out of /proc/sys/net.
  if (s.name.rfind("net.", 0) != 0 || s.name.find("..") != std::string::npos || s.name.back() == '.' ||
      s.name.find_first_of(" \t\n\\") != std::string::npos)
    f.fail("name", fmt::format("'{}' is not a net.* sysctl name (dotted, e.g. net.ipv4.conf.eth0.forwarding)", s.name));
  const json& v = f.value("value");
  if (v.is_boolean())
    s.value = v.get<bool>() ? "1" : "0";
  else
    s.value = f.required(&tmpl::Fields::string, "value");
  out.push_back(std::move(s));
}

nlohmann::ordered_json KindOps<Sysctl>::template_form(const Sysctl& s) {
  nlohmann::ordered_json j;
  j["name"] = s.name;
  j["value"] = s.value;
  return j;
}

void KindOps<Sysctl>::stamp(Sysctl&, const OwnerMark&) {}
bool KindOps<Sysctl>::owned(const Sysctl&) { return false; }  // restored on DEL, never deleted
bool KindOps<Sysctl>::may_replace(const Sysctl&, const Sysctl&) { return true; }  // a declared setting wins

}  // namespace topo
