#include "topo/model/json.h"

#include <fmt/format.h>

#include "kinds/registry.h"
#include "topo/error.h"

namespace topo {

using nlohmann::json;

void to_json(json& j, const IpAddress& v) { j = v.str(); }
void from_json(const json& j, IpAddress& v) {
  auto a = IpAddress::parse(j.get<std::string>());
  if (!a) throw Error("not an IP address: " + j.dump());
  v = *a;
}
void to_json(json& j, const IpPrefix& v) { j = v.str(); }
void from_json(const json& j, IpPrefix& v) {
  auto p = IpPrefix::parse(j.get<std::string>());
  if (!p) throw Error("not an IP prefix: " + j.dump());
  v = *p;
}

void to_json(json& j, const State& v) {
  j = json::object();
  AllKinds::each([&]<class K>() {
    if (!v.of<K>().empty()) j[std::string(K::kSection)] = v.of<K>();
  });
}

void from_json(const json& j, State& v) {
  AllKinds::each([&]<class K>() {
    if (auto it = j.find(std::string(K::kSection)); it != j.end() && !it->is_null()) v.of<K>() = it->get<std::vector<K>>();
  });
}

nlohmann::ordered_json template_form(const Object& o) {
  return std::visit([](const auto& v) { return KindOps<std::decay_t<decltype(v)>>::template_form(v); }, o);
}

json object_to_json(const Object& o) {
  return std::visit([](const auto& v) { return json(v); }, o);
}

Object object_from_json(std::string_view kind, const json& value) {
  std::optional<Object> out;
  AllKinds::each([&]<class K>() {
    if (!out && kind == K::kName) out = value.get<K>();
  });
  if (!out) throw Error(fmt::format("unknown object kind {}", json(std::string(kind)).dump()));
  return *out;
}

json change_to_json(const Change& c) {
  static const char* kActions[] = {"create", "delete", "replace"};
  json j = {{"action", kActions[static_cast<int>(c.action)]},
            {"namespace", scope_of(c.object)},
            {"kind", std::string(kind_name(c.object))},
            {"object", object_to_json(c.object)},
            {"description", describe(c.object)}};
  if (c.previous) {
    j["previous"] = object_to_json(*c.previous);
    j["previous_description"] = describe(*c.previous);
  }
  return j;
}

}  // namespace topo
