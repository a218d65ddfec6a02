#include "template/objects.h"

#include <fmt/format.h>

#include <algorithm>

#include "kinds/registry.h"
#include "template/fields.h"
#include "template/schema.h"
#include "topo/error.h"

namespace topo::tmpl {

using nlohmann::json;

namespace {

// The keys every item may have besides its kind's own.
std::vector<KeySpec> item_keys(const KindSchema& schema) {
  std::vector<KeySpec> keys = schema.keys;
  keys.push_back({"loop", false});
  keys.push_back({"when", false});
  return keys;
}

void check_item(const std::string& file, const KindSchema& kind, const Node& item,
                const std::string& path) {
  std::vector<KeySpec> keys = item_keys(kind);
  check_map(file, item, path, kind.what, std::span<const KeySpec>(keys));
  for (auto it = item.begin(); it != item.end(); ++it) {
    std::string key(it->first.Scalar());
    std::string p = join_path(path, key);
    Node v = it->second;
    if (key == "loop" || key == "when") {
      if (v.IsMap()) fail_at(file, v, p, fmt::format("expected an expression, found {}", node_kind(v)));
      check_condition(file, v, p);
      continue;
    }
    auto nested = std::find_if(kind.maps.begin(), kind.maps.end(), [&](const NestedMap& m) { return key == m.key; });
    if (nested != kind.maps.end() && !v.IsNull()) {
      check_map(file, v, p, nested->what, std::span<const KeySpec>(nested->keys));
    } else if (v.IsMap()) {
      // The only other maps are nftables negations.
      bool negatable = std::find(kind.negatable.begin(), kind.negatable.end(), key) != kind.negatable.end();
      if (!negatable) fail_at(file, v, p, fmt::format("expected a single value, found {}", node_kind(v)));
      check_map(file, v, p, "a negated match", {{"not", true}});
    } else if (v.IsSequence()) {
      fail_at(file, v, p, "expected a single value, found a list");
    }
    check_expressions(file, v, p);
  }
}

// Adds where a looped item went wrong, since the YAML position is the same for every iteration.
[[noreturn]] void rethrow_in_loop(const SpecError& e, size_t index, const json& item) {
  std::string shown = item.dump();
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  std::string message = fmt::format("{} (loop index {}, item {})", e.message, index, shown);
  // Keep the type: the plugin reports a host fact's failure with another CNI code than a template's.
  if (dynamic_cast<const HostFactError*>(&e)) throw HostFactError(e.file, e.line, e.column, e.path, message);
  throw SpecError(e.file, e.line, e.column, e.path, message);
}

}  // namespace

void check_section(const std::string& file, const Node& node, const std::string& scope) {
  if (node.IsNull()) return;
  std::vector<KeySpec> sections;
  AllKinds::each([&]<class K>() { sections.push_back({K::kSection.data(), false}); });
  check_map(file, node, scope, fmt::format("the {} section", scope), std::span<const KeySpec>(sections));
  AllKinds::each([&]<class K>() {
    const char* section = K::kSection.data();
    Node list = find_key(node, section);
    std::string path = join_path(scope, section);
    if (!list || list.IsNull()) return;
    if (!list.IsSequence())
      fail_at(file, list, path, fmt::format("expected a list of {}, found {}", section, node_kind(list)));
    for (size_t i = 0; i < list.size(); ++i)
      check_item(file, KindOps<K>::schema(), list[i], fmt::format("{}[{}]", path, i));
  });
}

namespace {

template <class K>
void render_kind(const Node& node, const std::string& key, const std::string& scope,
                 const NodeRenderer& renderer, json& roots, State& out) {
  const char* section = K::kSection.data();
  Node list = find_key(node, section);
  if (!list || list.IsNull()) return;
  for (size_t i = 0; i < list.size(); ++i) {
    const Node item = list[i];
    std::string path = fmt::format("{}.{}[{}]", key, section, i);
    Node loop = find_key(item, "loop");
    Node when = find_key(item, "when");
    auto one = [&] {
      if (when && !truthy(renderer.condition(when, join_path(path, "when")))) return;
      Fields f(item, path, renderer);
      KindOps<K>::build(f, scope, out.of<K>());
    };
    if (!loop) {
      one();
      continue;
    }
    for_each_looped(loop, path, renderer, roots, [&](size_t k, const json& element) {
      try {
        one();
      } catch (const SpecError& e) {
        rethrow_in_loop(e, k, element);
      }
    });
  }
}

}  // namespace

void render_section(const Node& node, const std::string& key, const std::string& scope,
                    const NodeRenderer& renderer, json& roots, State& out) {
  if (node.IsNull()) return;
  AllKinds::each([&]<class K>() { render_kind<K>(node, key, scope, renderer, roots, out); });
}

}  // namespace topo::tmpl
