// The `prev` root: a CNI prevResult reduced to what templates need, in one shape for every CNI version.
#pragma once

#include <nlohmann/json.hpp>

namespace topo::tmpl {

// {ips: [{address, gateway|null, interface: NAME|null, family: 4|6}], routes: [{dst, gw|null}], interfaces}.
// A null prevResult gives empty lists. Idempotent: a normalised value comes back unchanged. A malformed
// prevResult is a SpecError in "<network config>" at "prevResult...".
nlohmann::json normalize_prev(const nlohmann::json& prev);

// The `ipam` root: an IPAM plugin's result (CNI 1.x form, as the caller passes it) reduced like `prev`:
// {ips: [{address, gateway|null, interface: null, family}], routes: [{dst, gw|null}], dns: {...}}. The IPAM
// result has no interfaces (its `interface` indexes point nowhere a template could use), so `interface` is
// always null. null gives empty lists and an empty dns. A malformed one is a SpecError at "ipam.ips[0]...".
nlohmann::json normalize_ipam(const nlohmann::json& ipam);

// The part of a (normalised, CNI 1.x) prevResult worth keeping in the journal: what a later re-rendering
// (topoctl plan, DEL without a journal entry) reads as `prev`, still in the shape of a CNI result:
// cniVersion, interfaces [{name, mac, sandbox}], ips [{address, gateway, interface}], routes [{dst, gw}].
// Anything else a runtime or an earlier plugin put there (dns, extension keys of any size) is dropped: the
// journal is written on every ADD and must not grow with what the runtime sends.
nlohmann::json prev_for_journal(const nlohmann::json& prev);

}  // namespace topo::tmpl
