// The link kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/link.h"

namespace topo {

template <>
struct KindOps<Link> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Link>& out);
  static nlohmann::ordered_json template_form(const Link& v);

  static void stamp(Link& v, const OwnerMark& mark);
  static bool owned(const Link& observed);

  static bool may_replace(const Link& want, const Link& seen);

  static void observe(KernelContext& k, const std::vector<Link>& interest, std::vector<Link>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
