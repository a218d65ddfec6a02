// The link kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/link.h"

namespace topo {

class Kernel;

template <>
struct KindOps<Link> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Link>& out);
  static nlohmann::ordered_json template_form(const Link& v);

  static void stamp(Link& v, const OwnerMark& mark);
  static bool owned(const Link& observed);

  static bool may_replace(const Link& want, const Link& seen);
  // A link this attachment changes without owning it (an existing link whose attributes it sets): two
  // attachments claiming one are a conflict (lifecycle/claims.cpp).
  static bool claims(const Link& desired) { return changes_existing(desired); }

  // ADD's planning step, before anything changes: fills in `origin` (what DEL puts back) of each link someone
  // else made that the attachment moves (host-device) or changes (existing), from `journaled` (an earlier
  // ADD's record) where it has one, else from the kernel. See link_origins.cpp.
  static void take_origins(Kernel& kernel, std::vector<Link>& desired, const std::vector<Link>& journaled);

  static void observe(KernelContext& k, const std::vector<Link>& interest, std::vector<Link>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
