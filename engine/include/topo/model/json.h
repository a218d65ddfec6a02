// JSON form of the model: used by the journal and by `topoctl plan --json`. Field names follow the template
// format (docs/templates.md), so a journal reads like a rendered template.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "topo/model/state.h"
#include "topo/plan.h"

namespace topo {

void to_json(nlohmann::json& j, const IpAddress& v);
void from_json(const nlohmann::json& j, IpAddress& v);
void to_json(nlohmann::json& j, const IpPrefix& v);
void from_json(const nlohmann::json& j, IpPrefix& v);
// Each kind's to_json/from_json is declared with its value type (topo/model/<kind>.h).
void to_json(nlohmann::json& j, const State& v);
void from_json(const nlohmann::json& j, State& v);

// One object as a template item of its kind's section would say it (topoctl render writes these as YAML):
// only what a template sets, in the template format's spelling and key order.
nlohmann::ordered_json template_form(const Object& o);

// One object's own JSON, as the journal holds it (its kind's to_json). Its kind's name ("link", "route")
// travels beside it, never inside: a link's fields have a "kind" of their own ("veth").
nlohmann::json object_to_json(const Object& o);
// The object of kind `kind` (a K::kName) that `value` holds; Error for a kind this binary does not know.
Object object_from_json(std::string_view kind, const nlohmann::json& value);

// {"action": "create|delete|replace", "scope": ..., "kind": ..., "object": {...}, "previous": {...}}
nlohmann::json change_to_json(const Change& c);

}  // namespace topo
