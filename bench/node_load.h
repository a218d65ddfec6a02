// What makes a node "big": state the plugin must not pay for, since none of it is its business.
#pragma once

#include <string>

namespace bench {

// `count` extra /32 routes in the node's main table (172.16.0.0/12, via the node's gateway), loaded with one
// `ip -batch`.
void add_routes(const std::string& netns, const std::string& work_dir, int count);

// A ruleset shaped like kube-proxy's nftables mode: table ip kube-proxy with a service-ips verdict map, and
// per Service one service chain plus two endpoint chains (DNAT), i.e. 3 chains and ~4 rules per Service.
void add_kube_proxy(const std::string& netns, const std::string& work_dir, int services);

}  // namespace bench
