// nft JSON (libnftables-json(5)) of one rule → NatEntry: the exact inverse of rule_text().
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "topo/model/nat.h"

namespace topo::nft {

// Decodes the "expr" array of a listed rule. Anything rule_text() cannot have produced (sets, ranges, ports,
// flags, a second action, nfproto where we never write it, mixed families) is not decoded: the result then
// has iif = "?" + the compact JSON of `expr`, so it never equals a desired entry and a diff replaces it.
// `scope` and `owner` are copied into the result.
NatEntry decode_rule(const nlohmann::json& expr, const std::string& scope, const std::string& owner);

}  // namespace topo::nft
