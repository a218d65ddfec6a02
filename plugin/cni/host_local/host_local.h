// CNI's host-local IPAM, in the plugin's own process. topocni runs it instead of spawning the host-local
// binary (unless the config says `"builtinHostLocal": false`): a main plugin's ADD would otherwise spend as
// long starting host-local as on all of its own work. It reads the same config, gives the same addresses in
// the same order, and keeps host-local's data directory in host-local's format under host-local's lock, so
// pods allocated by the binary and by topocni share one pool and either can release the other's.
// tests/unit/test_host_local.cpp runs both side by side.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <utility>

namespace topo::cni::host_local {

// Who asks: CNI_CONTAINERID, CNI_IFNAME and CNI_ARGS (whose IP= requests an address, as host-local's).
struct Caller {
  std::string container_id, ifname, args;
};

// ADD: the IPAM result in the internal 1.x form (cni::normalize_prev_result's): ips with gateways, the
// config's routes, and dns from `resolvConf`. Config errors are cni::Error 7 naming the key; CNI_ARGS errors
// 4; an exhausted range or an address already taken is host-local's 999 with host-local's message.
nlohmann::json add(const nlohmann::json& config, const Caller& caller);
// CHECK: the attachment holds an address (host-local checks no more).
void check(const nlohmann::json& config, const Caller& caller);
// DEL: releases what the attachment holds; nothing held is success.
void del(const nlohmann::json& config, const Caller& caller);
// GC (CNI 1.1): releases every allocation whose attachment is not in `valid` (containerId, ifname). A file of
// an old release (container id only) is kept while any valid attachment has that container.
void gc(const nlohmann::json& config, const std::set<std::pair<std::string, std::string>>& valid);
// STATUS (CNI 1.1): the data directory can be made and locked (else 50, "not available").
void status(const nlohmann::json& config);

// Reads the config and CNI_ARGS as ADD does, errors included, without touching the data directory
// (tests/fuzz/fuzz_cni_config feeds it).
void check_config(const nlohmann::json& config, const std::string& cni_args);

}  // namespace topo::cni::host_local
