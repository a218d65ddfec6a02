// A rendered State written back in the template format: `host:`/`container:` sections with `links`,
// `sysctls`, `addresses`, `routes`, `rules` and `nat`, one flow map per object, keys as a template spells
// them and defaults left out. The output loads as a template again (a static one: no parameters).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/model/state.h"

namespace topo::cli {

// The YAML document (without a leading `---`), preceded by `comment` lines as YAML comments.
std::string state_to_yaml(const State& state, const std::vector<std::string>& comment);

// {"host": {"links": [...], ...}, "container": {...}}: topo::to_json per object, grouped by scope.
nlohmann::json state_by_scope(const State& state);

}  // namespace topo::cli
