// Conflist parsing and the insert/remove edits of `topocni install --conflist` and `uninstall --type`.
#include "install/conflist_edit.h"

#include <fmt/format.h>

#include <optional>

#include "install/install_error.h"

namespace topo::install {

namespace {

OrderedJson parse_object(const std::string& text, const std::string& where, const char* what) {
  OrderedJson j;
  try {
    j = OrderedJson::parse(text);
  } catch (const OrderedJson::parse_error& e) {
    throw InstallError(fmt::format("{}: not JSON ({})", where, e.what()));
  }
  if (!j.is_object()) throw InstallError(fmt::format("{}: {} must be a JSON object", where, what));
  return j;
}

void require_type(const OrderedJson& plugin, const std::string& where) {
  if (!plugin.is_object() || !plugin.contains("type") || !plugin["type"].is_string() ||
      plugin["type"].get<std::string>().empty()) {
    throw InstallError(
        fmt::format("{}: a plugin entry must be an object with a non-empty string \"type\"", where));
  }
}

bool same_plugin(const OrderedJson& a, const OrderedJson& b) {
  auto template_of = [](const OrderedJson& p) {
    return p.contains("template") ? p["template"] : OrderedJson();
  };
  return a["type"] == b["type"] && template_of(a) == template_of(b);
}

}  // namespace

OrderedJson parse_conflist(const std::string& text, const std::string& where) {
  OrderedJson j = parse_object(text, where, "a conflist");
  if (!j.contains("plugins") || !j["plugins"].is_array()) {
    throw InstallError(fmt::format("{}: not a conflist: no \"plugins\" list", where));
  }
  for (size_t i = 0; i < j["plugins"].size(); ++i)
    require_type(j["plugins"][i], fmt::format("{}: plugins[{}]", where, i));
  return j;
}

OrderedJson parse_entry(const std::string& text, const std::string& where) {
  OrderedJson j = parse_object(text, where, "a plugin entry");
  require_type(j, where);
  return j;
}

OrderedJson insert_after(OrderedJson conflist, const std::string& after_type, const OrderedJson& entry) {
  if (entry["type"] == after_type) {
    throw InstallError(fmt::format("--entry has type \"{}\", the type it is to follow", after_type));
  }
  auto& plugins = conflist["plugins"];
  std::optional<size_t> after;
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (plugins[i]["type"] == after_type) {
      after = i;
      break;
    }
  }
  if (!after)
    throw InstallError(fmt::format("the conflist has no plugin of type \"{}\" to insert after", after_type));

  // The first copy after `after` is replaced in place; every other copy goes.
  std::optional<size_t> keep;
  for (size_t i = *after + 1; i < plugins.size() && !keep; ++i) {
    if (same_plugin(plugins[i], entry)) keep = i;
  }
  OrderedJson result = OrderedJson::array();
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (keep && i == *keep) {
      result.push_back(entry);
    } else if (!same_plugin(plugins[i], entry)) {
      result.push_back(plugins[i]);
    }
    if (!keep && i == *after) result.push_back(entry);
  }
  plugins = std::move(result);
  return conflist;
}

Removal remove_type(OrderedJson conflist, const std::string& type) {
  Removal r;
  OrderedJson kept = OrderedJson::array();
  for (const auto& p : conflist["plugins"]) {
    if (p["type"] == type) {
      ++r.removed;
    } else {
      kept.push_back(p);
    }
  }
  conflist["plugins"] = std::move(kept);
  r.conflist = std::move(conflist);
  return r;
}

std::string render_conflist(const OrderedJson& conflist) { return conflist.dump(2) + "\n"; }

}  // namespace topo::install
