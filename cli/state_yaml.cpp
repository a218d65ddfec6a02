#include "state_yaml.h"

#include <cstdio>
#include <map>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "topo/model/json.h"
#include "topo/model/scope.h"

namespace topo::cli {

using nlohmann::json;

namespace {

// Plain YAML, as a template author would write it: scalars as they are, nested maps (a veth's peer, a
// negated match) in flow style.
void emit_value(YAML::Emitter& out, const nlohmann::ordered_json& v) {
  if (v.is_object()) {
    out << YAML::Flow << YAML::BeginMap;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      emit_value(out, it.value());
    }
    out << YAML::EndMap;
  } else if (v.is_string()) {
    out << v.get<std::string>();
  } else if (v.is_boolean()) {
    out << (v.get<bool>() ? "true" : "false");
  } else {
    out << v.dump();  // numbers
  }
}

template <class K>
void emit_kind(YAML::Emitter& out, const std::vector<K>& all, const std::string& scope) {
  bool open = false;
  for (const K& o : all) {
    if (o.scope != scope) continue;
    if (!open) {
      out << YAML::Key << std::string(K::kSection) << YAML::Value << YAML::BeginSeq;
      open = true;
    }
    emit_value(out, template_form(Object(o)));
  }
  if (open) out << YAML::EndSeq;
}

bool has_scope(const State& s, const std::string& scope) {
  bool any = false;
  AllKinds::each([&]<class K>() {
    for (const K& o : s.of<K>()) any = any || o.scope == scope;
  });
  return any;
}

}  // namespace

std::string state_to_yaml(const State& state, const std::vector<std::string>& comment) {
  std::string text;
  for (const std::string& line : comment) text += "# " + line + "\n";
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  for (const char* scope : {kHostScope, kContainerScope}) {
    if (!has_scope(state, scope)) continue;
    out << YAML::Key << scope << YAML::Value << YAML::BeginMap;
    // The order of the kind registry, which is also the order creates run in.
    AllKinds::each([&]<class K>() { emit_kind(out, state.of<K>(), scope); });
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  // An empty state is `{}`, which is still a loadable (empty) template.
  return text + out.c_str() + "\n";
}

json state_by_scope(const State& state) {
  json out = json::object();
  AllKinds::each([&]<class K>() {
    for (const K& o : state.of<K>()) out[o.scope][std::string(K::kSection)].push_back(json(o));
  });
  return out;
}

}  // namespace topo::cli
