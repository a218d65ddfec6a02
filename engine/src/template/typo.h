// "Did you mean": which of a set of names a mistyped key was probably meant to be.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace topo::tmpl {

// Edit distance counting insertions, deletions, substitutions and swaps of two neighbours as one each
// (optimal string alignment), ignoring ASCII case: "hostinterfce" is 1 from "hostInterface".
size_t typo_distance(std::string_view a, std::string_view b);

// The candidate `key` is closest to, if it is close enough to be a typo of it: at most 1 edit for names of up
// to 4 characters (where 2 edits turn almost any name into another), at most 2 otherwise. Nullopt for an
// exact match.
std::optional<std::string> likely_typo_of(std::string_view key, const std::vector<std::string>& candidates);

}  // namespace topo::tmpl
