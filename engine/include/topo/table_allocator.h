// The Allocator behind ADD (and, reserving nothing, behind topoctl's previews): policy-routing tables per
// docs/templates.md#allocate.
#pragma once

#include <set>

#include <nlohmann/json.hpp>

#include "topo/journal.h"
#include "topo/kernel.h"
#include "topo/table_reservations.h"
#include "topo/template/template.h"

namespace topo {

class TableAllocator : public Allocator {
 public:
  enum class Mode { Reserve, Preview };
  // `previous`: the attachment's journaled allocations, reused so a repeated ADD keeps its tables.
  // `kernel` null: no kernel checks (an offline preview).
  TableAllocator(const Journal& journal, Kernel* kernel, Attachment attachment, nlohmann::json previous,
                 Mode mode = Mode::Reserve);

  std::vector<uint32_t> tables(const TableRequest& request, size_t count) override;
  // The tables this allocator reserved anew (not the reused ones): a failed ADD releases them.
  const std::vector<uint32_t>& reserved() const { return reserved_; }

 private:
  bool usable(const TableRequest& request, uint32_t table);
  uint32_t pick(const TableRequest& request);

  TableReservations reservations_;
  Kernel* kernel_;
  Attachment attachment_;
  nlohmann::json previous_;
  Mode mode_;
  std::set<uint32_t> handed_out_;
  std::vector<uint32_t> reserved_;  // in this render: two allocations (or items) never share a table
};

}  // namespace topo
