#include "topo/shared_objects.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "topo/error.h"
#include "topo/model/json.h"
#include "topo/state_dir.h"

namespace topo {

using nlohmann::json;

namespace {

constexpr int kSharedFormat = 1;

// {"kind": "link", "object": {...}}: the kind apart, since an object's own fields may say "kind" too (a link's).
json entry_object_to_json(const Object& o) { return {{"kind", std::string(kind_name(o))}, {"object", object_to_json(o)}}; }

bool same_key(const Object& a, const Object& b) {
  if (a.index() != b.index()) return false;
  return std::visit([&](const auto& x) { return x.key() == std::get<std::decay_t<decltype(x)>>(b).key(); }, a);
}

std::vector<Object> objects_of(const State& s) {
  std::vector<Object> out;
  AllKinds::each([&]<class K>() {
    for (const K& v : s.of<K>()) out.emplace_back(v);
  });
  return out;
}

void add_to(State& s, const Object& o) {
  std::visit([&](const auto& v) { s.of<std::decay_t<decltype(v)>>().push_back(v); }, o);
}

[[noreturn]] void damaged(const std::string& path, const std::string& what) {
  throw StateDirError(fmt::format("the shared-object registry {} is damaged ({}): nothing was changed. Every "
                                  "journal names the shared objects its attachment uses (its \"shared\" key): "
                                  "rebuild the file from them, or remove it once no pod uses a shared object",
                                  path, what));
}

}  // namespace

SharedObjects::SharedObjects(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/shared.json") {}

SharedObjects::Lock SharedObjects::lock() const {
  ensure_private_dir(dir_);
  return Lock(dir_ + "/.shared.lock", "shared-object lock");
}

std::vector<SharedEntry> SharedObjects::load() const {
  std::optional<std::string> text = read_private_file(path_);
  if (!text) return {};
  json j;
  try {
    j = json::parse(*text);
  } catch (const std::exception& e) {
    damaged(path_, std::string("not JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("format", json()) != kSharedFormat || !j.contains("objects") ||
      !j["objects"].is_array() || j.size() != 2)
    damaged(path_, fmt::format("expected {{\"format\": {}, \"objects\": [...]}}", kSharedFormat));
  std::vector<SharedEntry> out;
  for (size_t i = 0; i < j["objects"].size(); ++i) {
    const json& e = j["objects"][i];
    std::string at = fmt::format("objects[{}]", i);
    if (!e.is_object() || e.size() != 3 || !e.contains("kind") || !e.contains("object") || !e.contains("users") ||
        !e["users"].is_array())
      damaged(path_, at + ": expected {\"kind\": ..., \"object\": {...}, \"users\": [...]}");
    SharedEntry entry;
    try {
      if (!e["kind"].is_string()) throw Error("kind: expected a string, found " + e["kind"].dump());
      entry.object = object_from_json(e["kind"].get<std::string>(), e["object"]);
    } catch (const std::exception& x) {
      damaged(path_, at + ".object: " + x.what());
    }
    if (json back = entry_object_to_json(entry.object); back["object"] != e["object"])
      damaged(path_, at + ".object: does not read back as written");
    for (const json& u : e["users"]) {
      if (!u.is_string() || u.get<std::string>().empty()) damaged(path_, at + ".users: expected attachment ids");
      entry.users.push_back(u.get<std::string>());
    }
    out.push_back(std::move(entry));
  }
  return out;
}

void SharedObjects::store(const std::vector<SharedEntry>& entries) const {
  if (entries.empty()) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) throw SystemError(errno, "remove " + path_);
    return;
  }
  json objects = json::array();
  for (const SharedEntry& e : entries) {
    json entry = entry_object_to_json(e.object);
    entry["users"] = e.users;
    objects.push_back(std::move(entry));
  }
  replace_private_file(path_, json{{"format", kSharedFormat}, {"objects", objects}}.dump(1) + "\n");
}

void register_user(std::vector<SharedEntry>& entries, const State& declared, const std::string& user) {
  std::vector<Object> wanted = objects_of(declared);
  // Every conflict is found before anything changes.
  for (const Object& o : wanted) {
    for (const SharedEntry& e : entries) {
      if (!same_key(e.object, o) || entry_object_to_json(e.object) == entry_object_to_json(o)) continue;
      throw ConflictError(fmt::format("the shared {} is declared differently by {} ({}) and by this template ({}): "
                                      "a shared object has one definition on a node",
                                      describe(o), fmt::join(e.users, ", "), describe(e.object), describe(o)));
    }
  }
  for (const Object& o : wanted) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const SharedEntry& e) { return same_key(e.object, o); });
    if (it == entries.end()) {
      entries.push_back({o, {user}});
    } else if (std::find(it->users.begin(), it->users.end(), user) == it->users.end()) {
      it->users.push_back(user);
    }
  }
}

State release_user(std::vector<SharedEntry>& entries, const State& declared, const std::string& user) {
  State unused;
  for (const Object& o : objects_of(declared)) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const SharedEntry& e) { return same_key(e.object, o); });
    if (it == entries.end()) {
      add_to(unused, o);
      continue;
    }
    std::erase(it->users, user);
    if (it->users.empty()) {
      add_to(unused, it->object);
      entries.erase(it);
    }
  }
  return unused;
}

State without_keys_of(const State& a, const State& b) {
  State out;
  AllKinds::each([&]<class K>() {
    for (const K& x : a.of<K>())
      if (std::none_of(b.of<K>().begin(), b.of<K>().end(), [&](const K& y) { return y.key() == x.key(); }))
        out.of<K>().push_back(x);
  });
  return out;
}

}  // namespace topo
