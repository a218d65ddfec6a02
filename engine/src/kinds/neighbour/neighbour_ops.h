// The neighbour kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/neighbour.h"

namespace topo {

template <>
struct KindOps<Neighbour> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Neighbour>& out);
  static nlohmann::ordered_json template_form(const Neighbour& v);

  static void stamp(Neighbour& v, const OwnerMark& mark);
  static bool owned(const Neighbour& observed);

  static bool may_replace(const Neighbour& want, const Neighbour& seen);

  static void observe(KernelContext& k, const std::vector<Neighbour>& interest, std::vector<Neighbour>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
