// The sysctl kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/sysctl.h"

namespace topo {

template <>
struct KindOps<Sysctl> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Sysctl>& out);
  static nlohmann::ordered_json template_form(const Sysctl& v);

  static void stamp(Sysctl& v, const OwnerMark& mark);
  static bool owned(const Sysctl& observed);

  static bool may_replace(const Sysctl& want, const Sysctl& seen);

  static void observe(KernelContext& k, const std::vector<Sysctl>& interest, std::vector<Sysctl>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
