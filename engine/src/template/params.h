// Parameter declarations (`parameters:` in a template) and binding them to the values in the network config.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "template/tree.h"

namespace topo::tmpl {

enum class ParamType { String, Bool, Int, Ip, Cidr, Ifname, List, Cidrs, Object, Mac };

struct ParamDecl {
  std::string name;
  ParamType type{ParamType::String};
  bool required{false};
  nlohmann::json default_value;     // null: none
  std::optional<int64_t> min, max;  // int only
};

// Checks the declarations (known keys, known types, defaults of the declared type); SpecError otherwise.
std::vector<ParamDecl> load_parameters(const std::string& file, const Node& node);

// Why `v` is not a valid value of `p`, or nullopt.
std::optional<std::string> param_value_problem(const ParamDecl& p, const nlohmann::json& v);

// The value of every declared parameter: from `config` (the CNI network config), else the default, else null.
// Keys of `config` that are not parameters are ignored: the config carries CNI's own keys too. Errors are
// SpecErrors in "<network config>" at path "config.<key>".
nlohmann::json bind_parameters(const std::vector<ParamDecl>& decls, const nlohmann::json& config);

// Names a template may use after `params.` / `vars.` / `alloc.`: letters, digits and '_', not starting with a
// digit.
bool is_identifier(const std::string& s);

}  // namespace topo::tmpl
