// The `prev` root: a CNI prevResult reduced to what templates need, in one shape for every CNI version.
#pragma once

#include <nlohmann/json.hpp>

namespace topo::tmpl {

// {ips: [{address, gateway|null, interface: NAME|null, family: 4|6}], routes: [{dst, gw|null}], interfaces}.
// A null prevResult gives empty lists. Idempotent: a normalised value comes back unchanged. A malformed
// prevResult is a SpecError in "<network config>" at "prevResult...".
nlohmann::json normalize_prev(const nlohmann::json& prev);

}  // namespace topo::tmpl
