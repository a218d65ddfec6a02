// The template's `result:` section: the CNI result it declares (interfaces, ips, routes, dns), checked when
// the template loads and rendered into a plain, CNI-agnostic value the caller turns into its result format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "template/node.h"
#include "template/tree.h"

namespace topo::tmpl {

// Structure only: known keys, lists where lists belong, expression syntax.
void check_result(const std::string& file, const Node& node);

// Renders the section. Only the keys the template declares are present in the value:
//   interfaces [{name, scope: "host"|"container"}]   (the MAC is the caller's to add, after the apply)
//   ips [{address: "ip/len", gateway: ip|null, interface: NAME|null}]
//   routes [{dst: "net/len", gw: ip|null}]
//   dns {nameservers: [..], domain: "..", search: [..], options: [..]}   (each optional)
// An `interface` of `ips` must name one of the declared interfaces, or, when the template declares none, one
// of `prev_interfaces` (normalised prev's): a result's index must point somewhere. Errors are SpecErrors at
// the template's scalar. `roots` binds `item` and `index` while a looped item renders.
nlohmann::json render_result(const Node& node, const NodeRenderer& renderer, nlohmann::json& roots,
                             const nlohmann::json& prev_interfaces);

}  // namespace topo::tmpl
