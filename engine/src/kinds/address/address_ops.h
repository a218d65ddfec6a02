// The address kind's unit: what the generic engine asks of it (see kinds/kind_ops.h).
#pragma once

#include <string>
#include <vector>

#include "kinds/kind_ops.h"
#include "topo/model/address.h"

namespace topo {

template <>
struct KindOps<Address> {
  static const tmpl::KindSchema& schema();
  static void build(tmpl::Fields& f, const std::string& scope, std::vector<Address>& out);
  static nlohmann::ordered_json template_form(const Address& v);

  static void stamp(Address& v, const OwnerMark& mark);
  static bool owned(const Address& observed);

  static bool may_replace(const Address& want, const Address& seen);

  static void observe(KernelContext& k, const std::vector<Address>& interest, std::vector<Address>& out);
  static void execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p);
  static bool already_gone(const Change& c, int err);
};

}  // namespace topo
