// Topologies outside CNI: `topoctl apply -f FILE --name NAME` runs a template as if it were an attachment of
// the network "topoctl" (a lab, a test bed, a host's own policy routing), through the same render → observe →
// diff → journal → apply flow as ADD, with the same ownership marks and the same journal, so `destroy` can
// reverse it exactly and `show` lists it next to the CNI attachments.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/attachment.h"
#include "topo/journal.h"

namespace topo {

// The attachment of a topology: network "topoctl", container id NAME, interface "-" (a topology has no CNI
// interface; "-" keeps the journal path <dir>/topoctl/NAME--.json and the link alias valid).
inline constexpr const char* kTopologyNetwork = "topoctl";
inline constexpr const char* kTopologyIfname = "-";

// NAME: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit (it is a path component and part of
// ifaliases and nftables comments). Throws Error naming the rule.
void validate_topology_name(const std::string& name);
Attachment topology_attachment(const std::string& name);

struct TopologyRequest {
  std::string template_file;  // the template, a file named NAME.yaml (its stem is the template's name)
  std::string name;           // the topology's name (the attachment's container id)
  std::string netns;          // binds the "container" scope; "" → a topology that uses "host" only
  nlohmann::json values = nlohmann::json::object();  // parameter values (`--set`)
  nlohmann::json prev_result;  // optional; templates read it as `prev`
  std::string state_dir;       // "" → Journal's default
};

// One journaled object and what the kernel has for it (`show --verify`).
struct ObjectStatus {
  std::string scope, kind, description;
  std::string status;  // "ok", "missing", "differs", "not ours", "namespace gone"
};

struct AttachmentStatus {
  JournalRecord record;
  std::vector<ObjectStatus> objects;  // filled only when verifying
};

class Topologies {
 public:
  explicit Topologies(std::string state_dir = "");

  // Dry run of apply: changes nothing, reserves nothing.
  Planned plan(const TopologyRequest& request);
  // Applies the topology (creating or updating it); on failure what this call did is undone and the journal
  // is put back. Returns the plan that was applied.
  Planned apply(const TopologyRequest& request);

  // The plan that destroy would run, from the journal; throws Error if there is no topology NAME.
  Planned plan_destroy(const std::string& name);
  // Removes everything the journal of topology NAME holds, then the journal. Returns the plan it ran.
  Planned destroy(const std::string& name);

  // Every journaled attachment on the node (CNI ones and topologies), sorted by id; with `verify`, each
  // journaled object compared with what the kernel has now.
  std::vector<AttachmentStatus> show(bool verify) const;

 private:
  std::string state_dir_;
};

}  // namespace topo
