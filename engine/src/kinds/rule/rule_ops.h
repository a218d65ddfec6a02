// The rule kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/rule.h"

namespace topo {

template <>
struct KindOps<Rule> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Rule>& out);
  static nlohmann::ordered_json template_form(const Rule& v);

  static void stamp(Rule& v, const OwnerMark& mark);
  static bool owned(const Rule& observed);

  static bool may_replace(const Rule& want, const Rule& seen);

  static void observe(KernelContext& k, const std::vector<Rule>& interest, std::vector<Rule>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
