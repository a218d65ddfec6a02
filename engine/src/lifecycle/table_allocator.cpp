#include "topo/table_allocator.h"

#include <fmt/format.h>

#include "topo/error.h"
#include "topo/hash.h"
#include "topo/model/scope.h"

namespace topo {

using nlohmann::json;

TableAllocator::TableAllocator(const Journal& journal, Kernel* kernel, Attachment attachment, json previous,
                               Mode mode)
    : reservations_(journal),
      kernel_(kernel),
      attachment_(std::move(attachment)),
      previous_(std::move(previous)),
      mode_(mode) {}

std::vector<uint32_t> TableAllocator::tables(const TableRequest& request, size_t count) {
  if (request.low == 0 || request.high < request.low)
    throw Error(fmt::format("allocation '{}': empty range", request.name));
  // What this attachment holds already: a single table, or one per item (an item list may have grown or
  // shrunk since; the items that remain keep theirs).
  std::vector<uint32_t> kept;
  if (previous_.is_object() && previous_.contains(request.name)) kept = tables_in(previous_[request.name]);
  std::vector<uint32_t> out;
  for (size_t i = 0; i < count; ++i) {
    uint32_t t = i < kept.size() ? kept[i] : pick(request);
    if (i < kept.size() && request.scope == AllocScope::Node && mode_ == Mode::Reserve)
      reservations_.reserve(t, attachment_);  // recreates a reservation lost with a crash
    handed_out_.insert(t);
    out.push_back(t);
  }
  return out;
}

bool TableAllocator::usable(const TableRequest& request, uint32_t table) {
  if (handed_out_.contains(table)) return false;
  const bool node = request.scope == AllocScope::Node;
  if (node) {
    bool ours = mode_ == Mode::Reserve ? reservations_.reserve(table, attachment_)
                                       : reservations_.available(table, attachment_);
    if (!ours) return false;
  }
  // The kernel has the last word: a table someone configured by hand (or another tool allocated) has a rule
  // pointing to it or routes in it.
  if (!kernel_ || kernel_->table_is_free(node ? kHostScope : kContainerScope, table)) {
    if (node && mode_ == Mode::Reserve) reserved_.push_back(table);
    return true;
  }
  if (node && mode_ == Mode::Reserve) reservations_.release(attachment_, {table});
  return false;
}

uint32_t TableAllocator::pick(const TableRequest& request) {
  const uint64_t size = uint64_t{request.high} - request.low + 1;
  // The pod interface, not the attachment's id: a template picks the same tables whichever entry of a chain
  // it is (and as it did before the id named the entry).
  const uint64_t start = request.pick == AllocPick::Spread ? fnv1a(attachment_.interface_id()) % size : 0;
  for (uint64_t i = 0; i < size; ++i) {
    auto t = static_cast<uint32_t>(request.low + (start + i) % size);
    if (usable(request, t)) return t;
  }
  throw Error(fmt::format("allocation '{}': every table in {}..{} is in use", request.name, request.low,
                          request.high));
}

}  // namespace topo
