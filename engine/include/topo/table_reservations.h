// Node-wide reservations of policy-routing tables: one file per table, <state dir>/.tables/<table>, created
// with O_EXCL and naming the attachment that holds it. Whether a table is taken costs one open() however many
// pods the node runs (reading every journal, as allocation first did, made the 300th pod's ADD 4x slower
// than the first's). The directory's name starts with '.', which no CNI network name may.
// Callers that change reservations hold the journal lock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/journal.h"

namespace topo {

class TableReservations {
 public:
  explicit TableReservations(const Journal& journal);

  // True when `table` is now `owner`'s: newly reserved, already its own, or reclaimed from an attachment
  // that has no journal (a crash between reservation and journal, or a DEL that was cut short).
  bool reserve(uint32_t table, const Attachment& owner);
  // Whether reserve() would succeed; changes nothing (previews).
  bool available(uint32_t table, const Attachment& owner) const;
  // Drops `owner`'s reservations among `tables`; another attachment's are left alone.
  void release(const Attachment& owner, const std::vector<uint32_t>& tables);

 private:
  std::string path_of(uint32_t table) const;
  // Nodes whose journals predate reservations: the first reservation on such a node records theirs.
  void create_dir_and_adopt_journals();
  const Journal& journal_;
  std::string dir_;
  bool dir_ready_{false};  // created (or found) by this object: one mkdir per allocation, not per probe
};

// The tables of one allocation's value: a table number, or a list of them (a `for:` allocation). Anything
// else (not a number, out of range) is skipped.
std::vector<uint32_t> tables_in(const nlohmann::json& value);
// Every table number among a journal record's allocations ({name: table} or {name: [tables]}).
std::vector<uint32_t> tables_of(const nlohmann::json& allocations);

}  // namespace topo
