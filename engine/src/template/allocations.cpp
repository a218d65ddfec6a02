#include "template/allocations.h"

#include <fmt/format.h>

#include "template/node.h"
#include "template/params.h"
#include "topo/error.h"

namespace topo::tmpl {

using nlohmann::json;

namespace {

void load_range(const std::string& file, const Node& range, const std::string& path, TableRequest& r) {
  json lo = range.IsSequence() && range.size() == 2 ? plain_scalar(range[0]) : json();
  json hi = range.IsSequence() && range.size() == 2 ? plain_scalar(range[1]) : json();
  if (!lo.is_number_integer() || !hi.is_number_integer())
    fail_at(file, range, path, "expected [low, high] (two ints), found " + node_kind(range));
  if (lo.get<int64_t>() < 1 || hi.get<int64_t>() > 0xFFFFFFFFLL || lo.get<int64_t>() > hi.get<int64_t>())
    fail_at(file, range, path, "expected 1 <= low <= high <= 4294967295");
  // 253..255 are the kernel's default, main and local tables: handing one out would mix an attachment's
  // routes with everyone else's.
  if (lo.get<int64_t>() <= 255 && hi.get<int64_t>() >= 253)
    fail_at(file, range, path, "the range must not contain the reserved tables 253 (default), 254 (main), 255 (local)");
  r.low = static_cast<uint32_t>(lo.get<int64_t>());
  r.high = static_cast<uint32_t>(hi.get<int64_t>());
}

// A scalar key that must be one of `choices`; absent gives `fallback`.
std::string load_choice(const std::string& file, const Node& map, const char* key, const std::string& path,
                        std::initializer_list<const char*> choices, const char* fallback) {
  Node n = find_key(map, key);
  if (!n) return fallback;
  std::string shown;
  for (const char* c : choices) {
    if (n.IsScalar() && n.Scalar() == c) return c;
    shown += shown.empty() ? c : std::string(" or ") + c;
  }
  fail_at(file, n, path + "." + key,
          fmt::format("expected {}, found {}", shown, n.IsScalar() ? fmt::format("'{}'", n.Scalar()) : node_kind(n)));
}

}  // namespace

std::vector<Allocation> load_allocations(const std::string& file, const Node& node) {
  std::vector<Allocation> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) fail_at(file, node, "allocate", "expected a map of allocations, found " + node_kind(node));
  for (auto it = node.begin(); it != node.end(); ++it) {
    Allocation a;
    a.request.name = it->first.Scalar();
    a.mark = it->first.Mark();
    std::string path = "allocate." + a.request.name;
    if (!is_identifier(a.request.name))
      fail_at(file, it->first, path, "an allocation name must be letters, digits and '_'");
    check_map(file, it->second, path, "an allocation",
              {{"kind", true}, {"range", true}, {"scope", false}, {"pick", false}, {"for", false}});
    Node kind = find_key(it->second, "kind");
    if (!kind.IsScalar() || kind.Scalar() != "table")
      fail_at(file, kind, path + ".kind", "expected kind: table (the only kind so far), found " + node_kind(kind));
    load_range(file, find_key(it->second, "range"), path + ".range", a.request);
    std::string scope = load_choice(file, it->second, "scope", path, {"node", "container"}, "node");
    a.request.scope = scope == "node" ? AllocScope::Node : AllocScope::Container;
    // Spreading avoids probing past every other pod's table on a busy node; in a pod's own namespace there
    // are few tables and the lowest free one is what other tools expect.
    std::string pick = load_choice(file, it->second, "pick", path, {"spread", "lowest"},
                                   a.request.scope == AllocScope::Node ? "spread" : "lowest");
    a.request.pick = pick == "spread" ? AllocPick::Spread : AllocPick::Lowest;
    if (Node f = find_key(it->second, "for")) {
      check_condition(file, f, path + ".for");
      a.for_each = f;
      a.per_item = true;
    }
    out.push_back(std::move(a));
  }
  return out;
}

json allocate(const std::string& file, const std::vector<Allocation>& allocations, Allocator* allocator,
              const EvalEnv& env) {
  json out = json::object();
  NodeRenderer renderer(file, env);
  for (const Allocation& a : allocations) {
    const std::string path = "allocate." + a.request.name;
    if (!allocator) fail_at(file, a.mark, path, "this template allocates a table but no allocator was given");
    if (!a.per_item) {
      out[a.request.name] = allocator->tables(a.request, 1).at(0);
      continue;
    }
    json items = renderer.condition(a.for_each, path + ".for");
    if (!items.is_array())
      fail_at(file, a.for_each, path + ".for", "expected a list (one table per item), found " + describe_value(items));
    out[a.request.name] = items.empty() ? json::array() : json(allocator->tables(a.request, items.size()));
  }
  return out;
}

}  // namespace topo::tmpl
