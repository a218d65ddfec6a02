// The link kind: a veth pair whose ends may live in two scopes, or an existing interface that is only
// referenced. Text, journal JSON, template fields, ownership and diff policy. Kernel I/O is in
// link_kernel.cpp, the netlink codec in link_codec.cpp.
#include <fmt/format.h>

#include "kinds/link/link_ops.h"
#include "kinds/text.h"
#include "template/fields.h"
#include "template/schema.h"

namespace topo {

using nlohmann::json;

namespace {

const EnumTable<LinkKind> kLinkKinds = {{LinkKind::Veth, "veth"}, {LinkKind::Existing, "existing"}};

std::string other_scope(const std::string& scope) { return scope == kHostScope ? kContainerScope : kHostScope; }

}  // namespace

std::string describe(const Link& l) {
  if (l.kind == LinkKind::Existing) return "link " + l.name + " (existing)";
  std::string s = fmt::format("link {} type veth peer {} in {}", l.name, l.peer_name.empty() ? "?" : l.peer_name,
                              l.peer_scope.empty() ? "?" : l.peer_scope);
  if (l.mtu) s += fmt::format(" mtu {}", *l.mtu);
  if (!l.up) s += " down";
  return s;
}

void to_json(json& j, const Link& v) {
  j = {{"namespace", v.scope}, {"name", v.name}, {"kind", kLinkKinds.name(v.kind)}};
  if (v.kind == LinkKind::Veth) j["peer"] = {{"name", v.peer_name}, {"namespace", v.peer_scope}};
  put_optional(j, "mtu", v.mtu);
  if (!v.up) j["up"] = false;
  if (!v.alias.empty()) j["alias"] = v.alias;
}

void from_json(const json& j, Link& v) {
  get_field(j, "namespace", v.scope);
  get_field(j, "name", v.name);
  v.kind = kLinkKinds.value(j.value("kind", "veth")).value_or(LinkKind::Existing);
  if (auto p = j.find("peer"); p != j.end()) {
    get_field(*p, "name", v.peer_name);
    get_field(*p, "namespace", v.peer_scope);
  }
  get_field(j, "mtu", v.mtu);
  v.up = j.value("up", true);
  get_field(j, "alias", v.alias);
}

const tmpl::KindSchema& KindOps<Link>::schema() {
  static const tmpl::KindSchema s{"a link",
                                  {{"name", true}, {"kind", false}, {"peer", false}, {"mtu", false}, {"up", false}},
                                  {{"peer", "a veth peer", {{"name", true}, {"scope", false}}}}};
  return s;
}

void KindOps<Link>::build(tmpl::Fields& f, const std::string& scope, std::vector<Link>& out) {
  Link l;
  l.scope = scope;
  l.name = *f.ifname("name");
  l.kind = f.word("kind", kLinkKinds).value_or(LinkKind::Veth);
  if (l.kind == LinkKind::Existing) {
    // An existing link is only referenced (it must be there), never created or changed.
    for (const char* key : {"peer", "mtu", "up"})
      if (f.has(key)) f.fail(key, fmt::format("'{}' cannot be set on a link of kind existing: it is never changed", key));
  } else {
    if (!f.has("peer")) f.fail("peer", "a veth link needs a peer: {name: ..., scope: host|container}");
    tmpl::Fields peer = f.child("peer");
    l.peer_name = *peer.ifname("name");
    l.peer_scope = peer.choice<std::string>("scope", {{"host", kHostScope}, {"container", kContainerScope}})
                       .value_or(other_scope(scope));
    if (l.peer_scope == scope && l.peer_name == l.name)
      peer.fail("name", "a veth's peer in the same scope needs a different name");
    // 68 is the IPv4 minimum (RFC 791) and the veth driver's min_mtu.
    l.mtu = f.uint("mtu", 68, 65535);
    l.up = f.boolean("up").value_or(true);
  }
  out.push_back(std::move(l));
}

nlohmann::ordered_json KindOps<Link>::template_form(const Link& l) {
  nlohmann::ordered_json j;
  j["name"] = l.name;
  if (l.kind == LinkKind::Existing) {
    j["kind"] = "existing";
    return j;
  }
  j["peer"] = nlohmann::ordered_json{{"name", l.peer_name}, {"scope", l.peer_scope}};
  if (l.mtu) j["mtu"] = *l.mtu;
  if (!l.up) j["up"] = false;
  return j;
}

// Both ends of a veth carry IFLA_IFALIAS "topocni:<owner>"; an existing link is never ours.
void KindOps<Link>::stamp(Link& l, const OwnerMark& mark) {
  if (l.kind == LinkKind::Veth) l.alias = mark.text();
}
bool KindOps<Link>::owned(const Link& observed) { return observed.owned; }
// Ours and this attachment's; or ours without any alias yet (a pair whose creation a kill interrupted, vouched
// for by the journal: lifecycle/attachment.cpp), which the replace marks in place.
bool KindOps<Link>::may_replace(const Link& want, const Link& seen) {
  return seen.owned && (seen.alias == want.alias || seen.alias.empty());
}

}  // namespace topo
