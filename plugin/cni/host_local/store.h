// host-local's data directory, read and written exactly as the host-local binary does
// (plugins/ipam/host-local/backend/disk), so that pods allocated by either are seen by the other:
//   <dataDir>/<network>/<address>          "<containerId>\r\n<ifname>" (a file of an old release: "<containerId>")
//   <dataDir>/<network>/last_reserved_ip.N the address last given from range set N (round robin restarts there)
//   <dataDir>/<network>/lock               flock()ed around every change, as host-local's file mutex
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "topo/model/ip.h"

namespace topo::cni::host_local {

inline constexpr const char* kDefaultDataDir = "/var/lib/cni/networks";

class Store {
 public:
  // Makes the network's directory (0755, as host-local) and holds its lock until destroyed. cni::Error 5 when
  // either fails.
  Store(const std::string& data_dir, const std::string& network);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Claims `address` for the attachment (false when another holds it) and records it as range set
  // `range_set`'s last.
  bool reserve(const std::string& container_id, const std::string& ifname, const IpAddress& address,
               size_t range_set);
  std::optional<IpAddress> last_reserved(size_t range_set) const;

  // The addresses held by the attachment (its own files, and an old release's files of the container).
  std::vector<IpAddress> held_by(const std::string& container_id, const std::string& ifname) const;
  // Removes the attachment's files; when it has none, an old release's files of the container. Whether any
  // was removed.
  bool release(const std::string& container_id, const std::string& ifname);

  // Every allocation file by name, with what it holds (trimmed), for GC: the addresses' files and the claims
  // a kill left half-made (reserve()).
  std::vector<std::pair<std::string, std::string>> allocations() const;
  bool remove(const std::string& name);

 private:
  template <class Visit>
  void each_file(Visit&& visit) const;  // every file under the directory, with its trimmed text (store.cpp)

  std::string dir_;
  int lock_fd_{-1};
};

// What an allocation file holds for an attachment, and for a container in an old release's form.
std::string allocation_text(const std::string& container_id, const std::string& ifname);
std::string old_allocation_text(const std::string& container_id);

}  // namespace topo::cni::host_local
