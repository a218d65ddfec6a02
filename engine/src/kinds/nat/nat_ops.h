// The nat kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/nat.h"

namespace topo {

template <>
struct KindOps<NatEntry> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<NatEntry>& out);
  static nlohmann::ordered_json template_form(const NatEntry& v);

  static void stamp(NatEntry& v, const OwnerMark& mark);
  static bool owned(const NatEntry& observed);

  static bool may_replace(const NatEntry& want, const NatEntry& seen);

  static void observe(KernelContext& k, const std::vector<NatEntry>& interest, std::vector<NatEntry>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
