// The route kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/route.h"

namespace topo {

template <>
struct KindOps<Route> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Route>& out);
  static nlohmann::ordered_json template_form(const Route& v);

  static void stamp(Route& v, const OwnerMark& mark);
  static bool owned(const Route& observed);

  static bool may_replace(const Route& want, const Route& seen);

  static void observe(KernelContext& k, const std::vector<Route>& interest, std::vector<Route>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
