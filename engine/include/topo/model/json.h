// JSON form of the model: used by the journal and by `topoctl plan --json`. Field names follow the template
// format (docs/templates.md), so a journal reads like a rendered template.
#pragma once

#include <nlohmann/json.hpp>

#include "topo/model/state.h"
#include "topo/plan.h"

namespace topo {

void to_json(nlohmann::json& j, const IpAddress& v);
void from_json(const nlohmann::json& j, IpAddress& v);
void to_json(nlohmann::json& j, const IpPrefix& v);
void from_json(const nlohmann::json& j, IpPrefix& v);
void to_json(nlohmann::json& j, const Link& v);
void from_json(const nlohmann::json& j, Link& v);
void to_json(nlohmann::json& j, const Address& v);
void from_json(const nlohmann::json& j, Address& v);
void to_json(nlohmann::json& j, const Route& v);
void from_json(const nlohmann::json& j, Route& v);
void to_json(nlohmann::json& j, const Rule& v);
void from_json(const nlohmann::json& j, Rule& v);
void to_json(nlohmann::json& j, const NatEntry& v);
void from_json(const nlohmann::json& j, NatEntry& v);
void to_json(nlohmann::json& j, const Sysctl& v);
void from_json(const nlohmann::json& j, Sysctl& v);
void to_json(nlohmann::json& j, const State& v);
void from_json(const nlohmann::json& j, State& v);

// {"kind": "route", ...fields}
nlohmann::json object_to_json(const Object& o);
Object object_from_json(const nlohmann::json& j);

// {"action": "create|delete|replace", "scope": ..., "kind": ..., "object": {...}, "previous": {...}}
nlohmann::json change_to_json(const Change& c);

}  // namespace topo
