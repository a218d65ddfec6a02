// The kernel's own cost of what a pod start and stop must do at the least: create a veth pair with one end in
// the pod (both ends up, as every veth plugin leaves them), and delete it. One netlink request each, from a
// process that is already running: no process start-up, no reads, no other object.
#pragma once

#include <string>
#include <vector>

namespace bench {

struct Floor {
  std::vector<double> create, del;  // ms per RTM_NEWLINK / RTM_DELLINK request, ACK included
};

Floor kernel_floor(const std::string& node_netns, const std::string& pod_netns, int repeats);

}  // namespace bench
