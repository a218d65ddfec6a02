// The kernel's own cost of what a pod start and stop must do at the least: create a veth pair with one end in
// the pod (both ends up, as every veth plugin leaves them), and delete it. One netlink request each, from a
// process that is already running: no process start-up, no reads, no other object.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace topo::netlink {
class Socket;
}

namespace bench {

struct Floor {
  std::vector<double> create, del;  // ms per RTM_NEWLINK / RTM_DELLINK request, ACK included
};

Floor kernel_floor(const std::string& node_netns, const std::string& pod_netns, int repeats);

// The same two requests one pod at a time, so the floor can also be measured in the benchmark's own rhythm:
// between the plugins' calls, with their pods' namespaces being torn down around it (a namespace deleted
// just before a DEL is still being cleaned up by the kernel during it, and slows every veth deletion).
class VethFloor {
 public:
  explicit VethFloor(const std::string& node_netns);
  ~VethFloor();
  VethFloor(const VethFloor&) = delete;
  VethFloor& operator=(const VethFloor&) = delete;
  // A veth pair `name` / `name`p with the peer in `pod_netns`, both up; returns the creation's ms.
  double create(const std::string& pod_netns, const std::string& name);
  // Deletes it; returns the ms of the RTM_DELLINK request.
  double remove(const std::string& name);

 private:
  std::string node_netns_;
  std::unique_ptr<topo::netlink::Socket> node_sock_;  // opened in the node namespace, kept
};

// What a macvlan plugin's DEL cannot go below: the pod's `eth0`, a macvlan on the node's `parent`, deleted by
// one RTM_DELLINK sent from the pod's namespace by a process that is already running. Its pods are made as
// the plugins leave theirs (up, one IPv4 address), so the deletion does the same work in the kernel.
class MacvlanFloor {
 public:
  MacvlanFloor(const std::string& node_netns, const std::string& parent);
  ~MacvlanFloor();
  MacvlanFloor(const MacvlanFloor&) = delete;
  MacvlanFloor& operator=(const MacvlanFloor&) = delete;
  // Creates the pod's eth0 up with `address` (a prefix); returns the ms of the one RTM_NEWLINK.
  double create(const std::string& pod_netns, const std::string& address);
  // Deletes it; returns the ms of the RTM_DELLINK request.
  double remove(const std::string& pod_netns);

 private:
  std::string node_netns_, parent_;
  std::unique_ptr<topo::netlink::Socket> node_sock_;
};

// The kernel's cost of one nftables commit that adds one NAT rule to an existing chain (what an ADD's host
// side needs), in the namespace `netns`. nf_tables_commit walks every chain of every table in the namespace
// whatever the batch holds, so on a node with a kube-proxy ruleset each commit pays for its chains: this
// measures that floor. Table and chain are created before and removed after each commit, untimed; the table
// is topocni's own, so run it where no topocni attachment is.
std::vector<double> nft_commit_floor(const std::string& netns, int repeats);

}  // namespace bench
