#include "topo/journal_format.h"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "kinds/registry.h"
#include "topo/model/json.h"

namespace topo {

using nlohmann::json;

JournalFormatError::JournalFormatError(std::string file_, unsigned long long found_)
    : Error(fmt::format("journal {} has format {}, newer than this topocni reads (formats {} to {}): a newer "
                        "topocni wrote it; nothing was changed (run the newer topocni, or remove the attachment "
                        "with it)",
                        file_, found_, kOldestJournalFormat, kJournalFormat)),
      file(std::move(file_)),
      found(found_) {}

namespace {

std::string summary(const std::vector<std::string>& problems) {
  std::string s = problems.empty() ? "" : problems.front();
  if (problems.size() > 1) s += fmt::format(" (and {} more problem(s))", problems.size() - 1);
  return s;
}

}  // namespace

JournalDamagedError::JournalDamagedError(std::string file_, JournalRecord record_, std::vector<std::string> problems_)
    : Error(fmt::format("journal {} is damaged: {}", file_, summary(problems_))),
      file(std::move(file_)),
      record(std::move(record_)),
      problems(std::move(problems_)) {}

namespace {

// Deeper than anything topocni writes (a prevResult is 4 deep, the whole record 6): refused before it is
// built, so no later step recurses through it.
constexpr int kMaxDepth = 64;

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unknown type";
  }
}

// nlohmann's "[json.exception.type_error.302] type must be number, but is string" as "expected a number,
// found a string"; other messages (ours: "not an IP prefix: ...") without the bracketed prefix.
std::string plain_message(const std::exception& e) {
  std::string m = e.what();
  if (m.starts_with("[json.exception.")) {
    if (auto end = m.find("] "); end != std::string::npos) m = m.substr(end + 2);
  }
  const std::string must = "type must be ", but = ", but is ";
  if (m.starts_with(must)) {
    if (auto at = m.find(but); at != std::string::npos) {
      auto article = [](const std::string& t) { return t == "null" ? t : (t == "object" || t == "array" ? "an " : "a ") + t; };
      return fmt::format("expected {}, found {}", article(m.substr(must.size(), at - must.size())),
                         article(m.substr(at + but.size())));
    }
  }
  return m;
}

// The first place where `in` (the file) and `back` (what topocni writes for the value read from it) differ:
// a key topocni does not write (or writes only with another value), a key it always writes that is missing,
// or a value that does not read back as itself (a misspelt enum, a fraction where an integer goes).
std::optional<std::string> first_difference(const std::string& path, const json& in, const json& back) {
  if (in == back) return std::nullopt;  // the common case, decided without building a path
  if (in.is_object() && back.is_object()) {
    for (const auto& [key, value] : in.items()) {
      auto it = back.find(key);
      if (it == back.end()) return fmt::format("{}.{}: unexpected key (value {})", path, key, value.dump());
      if (auto d = first_difference(path + "." + key, value, *it)) return d;
    }
    for (const auto& [key, value] : back.items())
      if (!in.contains(key)) return fmt::format("{}.{}: missing", path, key);
    return std::nullopt;
  }
  if (std::string(type_name(in)) != type_name(back))
    return fmt::format("{}: expected {}, found {}", path, type_name(back), type_name(in));
  return fmt::format("{}: invalid value {}", path, in.dump());
}

// Which key of `el` makes `read` throw: the first one whose removal lets it through, searched one level into
// nested objects. "" when no single key is to blame.
template <class Read>
std::string culprit(const json& el, const Read& read) {
  auto succeeds = [&](const json& candidate) {
    try {
      read(candidate);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  };
  for (const auto& [key, value] : el.items()) {
    json without = el;
    without.erase(key);
    if (!succeeds(without)) continue;
    if (value.is_object()) {
      for (const auto& [sub, ignored] : value.items()) {
        json nested = el;
        nested[key].erase(sub);
        if (succeeds(nested)) return key + "." + sub;
      }
    }
    return key;
  }
  return "";
}

// One object of kind K, item `index` of the section at `section_path`: read, and checked to read back as
// written. Its path is spelt only for a problem: DEL reads every journaled object this way.
template <class K>
std::optional<K> read_object(const std::string& section_path, size_t index, const json& el,
                             std::vector<std::string>& problems) {
  auto path_of = [&] { return fmt::format("{}[{}]", section_path, index); };
  if (!el.is_object()) {
    std::string path = path_of();
    problems.push_back(fmt::format("{}: expected an object, found {}", path, type_name(el)));
    return std::nullopt;
  }
  K v;
  try {
    v = el.get<K>();
  } catch (const std::exception& e) {
    std::string path = path_of();
    std::string key = culprit(el, [](const json& j) { (void)j.get<K>(); });
    std::string at = key.empty() ? path : path + "." + key;
    problems.push_back(fmt::format("{}: {}", at, plain_message(e)));
    return std::nullopt;
  }
  if (json back = v; back != el) {
    problems.push_back(first_difference(path_of(), el, back).value_or(path_of() + ": does not read back as written"));
    return std::nullopt;
  }
  return v;
}

// A State section by section, object by object: what reads is kept.
State read_state(const std::string& path, const json& j, std::vector<std::string>& problems) {
  State out;
  if (!j.is_object()) {
    problems.push_back(fmt::format("{}: expected an object, found {}", path, type_name(j)));
    return out;
  }
  for (auto entry = j.begin(); entry != j.end(); ++entry) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot capture one in the lambda below.
    const std::string& section = entry.key();
    const json& items = entry.value();
    bool known = false;
    AllKinds::each([&]<class K>() {
      if (known || section != K::kSection) return;
      known = true;
      std::string at = path + "." + section;
      if (!items.is_array()) {
        problems.push_back(fmt::format("{}: expected an array, found {}", at, type_name(items)));
        return;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        if (auto v = read_object<K>(at, i, items[i], problems)) out.of<K>().push_back(std::move(*v));
      }
    });
    if (!known) problems.push_back(fmt::format("{}.{}: unknown object kind", path, section));
  }
  return out;
}

// A string key: required unless `optional`.
void read_string(const json& j, const char* key, std::string& out, std::vector<std::string>& problems,
                 bool optional = false) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (!optional) problems.push_back(fmt::format("{}: missing", key));
    return;
  }
  if (!it->is_string()) {
    problems.push_back(fmt::format("{}: expected a string, found {}", key, type_name(*it)));
    return;
  }
  out = it->get<std::string>();
}

}  // namespace

JournalParse parse_journal_record(std::string_view text, const std::string& file) {
  JournalParse out;
  auto& problems = out.problems;
  json j;
  try {
    j = json::parse(text, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) throw std::length_error(fmt::format("nested deeper than {} levels", kMaxDepth));
      return true;
    });
  } catch (const std::exception& e) {
    problems.push_back(fmt::format("(file): not a JSON document: {}", plain_message(e)));
    return out;
  }
  if (!j.is_object()) {
    problems.push_back(fmt::format("(file): expected an object, found {}", type_name(j)));
    return out;
  }
  // The format first: a newer one is refused whatever else it holds.
  if (auto it = j.find("format"); it != j.end()) {
    if (!it->is_number_integer()) {  // nlohmann: true for signed and unsigned integers, false for 2.0
      problems.push_back(fmt::format("format: expected an integer, found {}", type_name(*it)));
    } else if (it->is_number_unsigned() && it->get<unsigned long long>() > kJournalFormat) {
      unsigned long long found = it->get<unsigned long long>();
      throw JournalFormatError(file, found);
    } else if (it->get<long long>() < kOldestJournalFormat) {
      problems.push_back(fmt::format("format: invalid value {}", it->dump()));
    }
  }
  // Format 1 (no "format" key) and 2 differ only in that key, 3 only adds what 2 cannot hold, and 4 only adds
  // `plugin` (absent: the attachment is its pod interface alone, as every older journal's): nothing to migrate.
  JournalRecord& r = out.record;
  long long format = 1;
  if (auto it = j.find("format"); it != j.end() && it->is_number_integer()) format = it->get<long long>();
  size_t before = problems.size();
  read_string(j, "network", r.attachment.network, problems);
  read_string(j, "containerId", r.attachment.container_id, problems);
  read_string(j, "ifname", r.attachment.ifname, problems);
  if (j.contains("plugin") && format < 4)
    problems.push_back(fmt::format("plugin: unexpected key in a format-{} journal", format));
  else if (j.contains("plugin") && j["plugin"] == "")
    problems.push_back("plugin: empty (an attachment without a plugin has no `plugin` key)");
  else
    read_string(j, "plugin", r.attachment.plugin, problems, true);
  out.attachment_known = problems.size() == before;
  read_string(j, "template", r.template_name, problems);
  // The plugin is the entry's template: a journal saying otherwise was not written by topocni.
  if (!r.attachment.plugin.empty() && r.attachment.plugin != r.template_name)
    problems.push_back(
        fmt::format("plugin: '{}' is not the journal's template '{}'", r.attachment.plugin, r.template_name));
  read_string(j, "netns", r.netns, problems);
  read_string(j, "netnsIdentity", r.netns_identity, problems, true);
  if (auto it = j.find("allocations"); it == j.end()) {
    problems.push_back("allocations: missing");
  } else if (it->is_null()) {
    // A record that never allocated anything (a default JournalRecord: STATUS's probe, topologies) writes null.
  } else if (!it->is_object()) {
    problems.push_back(fmt::format("allocations: expected an object, found {}", type_name(*it)));
  } else {
    r.allocations = json::object();
    // A table number, or a list of them (table_reservations.cpp tables_in).
    for (const auto& [name, value] : it->items()) {
      bool ok = value.is_number_unsigned() ||
                (value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number_unsigned(); })) ||
                value.is_string();
      if (ok)
        r.allocations[name] = value;
      else
        problems.push_back(fmt::format("allocations.{}: expected a table number, found {}", name, type_name(value)));
    }
  }
  if (auto it = j.find("prevResult"); it != j.end()) r.prev_result = *it;  // optional: topoctl plan's fallback only
  if (auto it = j.find("state"); it == j.end())
    problems.push_back("state: missing");
  else
    r.state = read_state("state", *it, problems);
  if (auto it = j.find("takenOver"); it == j.end())
    problems.push_back("takenOver: missing");
  else
    r.taken_over = read_state("takenOver", *it, problems);
  if (auto it = j.find("shared"); it != j.end()) r.shared = read_state("shared", *it, problems);  // format 3
  static const std::set<std::string> kKeys = {"format",      "network", "containerId", "ifname",  "plugin",
                                              "template",    "netns",   "netnsIdentity", "allocations",
                                              "prevResult",  "state",   "takenOver",   "shared"};
  for (const auto& [key, value] : j.items())
    if (!kKeys.contains(key)) problems.push_back(fmt::format("{}: unexpected key", key));
  return out;
}

json journal_record_to_json(const JournalRecord& r) {
  json j = {{"format", kJournalFormat},
            {"network", r.attachment.network},
            {"containerId", r.attachment.container_id},
            {"ifname", r.attachment.ifname},
            {"template", r.template_name},
            {"netns", r.netns},
            {"allocations", r.allocations},
            {"prevResult", r.prev_result},
            {"state", r.state},
            {"takenOver", r.taken_over}};
  if (!r.attachment.plugin.empty()) j["plugin"] = r.attachment.plugin;
  if (!r.netns_identity.empty()) j["netnsIdentity"] = r.netns_identity;
  if (!r.shared.empty()) j["shared"] = r.shared;
  return j;
}

}  // namespace topo
