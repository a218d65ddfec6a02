// Leftovers: journals whose objects are gone (a pod deleted without a DEL reaching topocni), and objects
// carrying topocni's marks (link alias, route/rule protocol 157) that no journal claims, which nothing will
// ever remove. Only the namespace doctor runs in is read: the journals' "host" scope.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "doctor.h"
#include "topo/journal.h"
#include "topo/model/scope.h"
#include "topo/node_scan.h"

namespace topo::cli::doctor {

namespace {

uint32_t effective_metric(const Route& r) { return r.family() == Family::V6 && r.metric == 0 ? 1024 : r.metric; }

auto route_key(const Route& r) { return std::make_tuple(r.family(), r.table, r.dst, r.tos, effective_metric(r)); }

auto rule_key(const Rule& r) {
  // The kernel reports a fwmark without a mask with the mask all ones (fib_nl2rule).
  std::optional<uint32_t> mask = r.fwmark && !r.fwmask ? std::optional<uint32_t>(0xffffffff) : r.fwmask;
  return std::make_tuple(r.family, r.priority, r.from, r.to, r.iif, r.oif, r.fwmark, mask, r.table);
}

std::string family_flag(Family f) { return f == Family::V6 ? "-6" : "-4"; }

std::string table_name(uint32_t t) { return t == kTableMain ? "main" : std::to_string(t); }

std::string route_text(const Route& r) {
  std::string s = fmt::format("{} table {} metric {}", r.dst.str(), table_name(r.table), effective_metric(r));
  if (r.gateway) s += " via " + r.gateway->str();
  if (!r.dev.empty()) s += " dev " + r.dev;
  return s;
}

std::string rule_selectors(const Rule& r) {
  std::string s = fmt::format("priority {}", r.priority);
  if (r.from) s += " from " + r.from->str();
  if (r.to) s += " to " + r.to->str();
  if (!r.iif.empty()) s += " iif " + r.iif;
  if (!r.oif.empty()) s += " oif " + r.oif;
  if (r.fwmark) s += fmt::format(" fwmark {:#x}/{:#x}", *r.fwmark, r.fwmask.value_or(0xffffffff));
  return s + " lookup " + table_name(r.table);
}

// How the journal's owner removes it: DEL through the plugin for a CNI attachment, `topoctl destroy` for a
// topology (attachment topoctl/<NAME>/-).
std::string removal(const JournalRecord& r, const Node& node) {
  const Attachment& a = r.attachment;
  if (a.network == "topoctl" && a.ifname == "-") return fmt::format("topoctl destroy --name {}", a.container_id);
  std::string dir = node.options.cni_bin_dir.substr(0, node.options.cni_bin_dir.find(':'));
  std::string state =
      node.options.state_dir.empty() ? "" : fmt::format("TOPOCNI_STATE_DIR={} ", node.options.state_dir);
  return fmt::format(
      "echo '{{\"cniVersion\":\"1.0.0\",\"name\":\"{}\",\"type\":\"topocni\",\"template\":\"{}\"}}' | "
      "{}CNI_COMMAND=DEL "
      "CNI_CONTAINERID={} CNI_IFNAME={} CNI_NETNS= CNI_PATH={} {}/topocni",
      a.network, r.template_name, state, a.container_id, a.ifname, dir, dir);
}

}  // namespace

void check_leftovers(const Node& node, std::vector<Finding>& out) {
  Journal journal(node.options.state_dir);
  // A damaged journal's readable part still claims its objects (damaged_journals.cpp reports the journal).
  Journal::Listing listing = journal.list();
  auto records = std::move(listing.records);
  for (const Journal::Damaged& d : listing.damaged)
    if (d.attachment_known) records.push_back(d.record);
  auto links = scan::links();
  auto marked = scan::marked_routes_and_rules();
  std::set<std::string> present;
  for (const auto& l : links) present.insert(l.name);
  std::set<decltype(route_key(Route{}))> routes_here;
  for (const auto& r : marked.routes) routes_here.insert(route_key(r));
  std::set<decltype(rule_key(Rule{}))> rules_here;
  for (const auto& r : marked.rules) rules_here.insert(rule_key(r));

  // Journals whose objects are gone.
  std::set<std::string> journaled_ids;
  std::set<decltype(route_key(Route{}))> journaled_routes;
  std::set<decltype(rule_key(Rule{}))> journaled_rules;
  size_t healthy = 0;
  for (const auto& rec : records) {
    journaled_ids.insert(owner_mark(rec.attachment).owner);  // what its links' aliases say (hashed when long)
    std::vector<std::string> missing_links;
    size_t links_ours = 0, routes_ours = 0, rules_ours = 0, routes_left = 0, rules_left = 0;
    for (const auto& l : rec.state.of<Link>()) {
      if (l.scope != kHostScope || l.kind != LinkKind::Veth) continue;
      ++links_ours;
      if (!present.contains(l.name)) missing_links.push_back(l.name);
    }
    for (const auto& r : rec.state.of<Route>()) {
      if (r.scope != kHostScope) continue;
      ++routes_ours;
      journaled_routes.insert(route_key(r));
      routes_left += routes_here.contains(route_key(r));
    }
    for (const auto& r : rec.state.of<Rule>()) {
      if (r.scope != kHostScope) continue;
      ++rules_ours;
      journaled_rules.insert(rule_key(r));
      rules_left += rules_here.contains(rule_key(r));
    }
    std::string checked = fmt::format("journal of {} (template {}) against this namespace", rec.attachment.id(),
                                      rec.template_name);
    std::string gone;
    if (!missing_links.empty()) {
      // A veth dies with its peer: its host end missing means the pod's namespace is gone and no DEL came.
      gone = fmt::format("its host link {} no longer exists", fmt::join(missing_links, ", "));
    } else if (links_ours == 0 && routes_ours + rules_ours > 0 && routes_left + rules_left == 0) {
      gone = fmt::format("none of its {} routes and {} rules in this namespace exists", routes_ours, rules_ours);
    }
    if (gone.empty()) {
      ++healthy;
      continue;
    }
    out.push_back({"stale-journal", Status::Problem, rec.attachment.id(), checked,
                   fmt::format("{}: the attachment is gone but its journal stays, and with it {} rule(s) and {} "
                               "route(s) still in the kernel and the nftables rules it owns",
                               gone, rules_left, routes_left),
                   removal(rec, node)});
  }
  if (healthy > 0 || records.empty()) {
    out.push_back({"stale-journal", Status::Ok, "", fmt::format("journals in {} against this namespace", journal.dir()),
                   records.empty() ? "no journals" : fmt::format("{} journal(s) with their objects present", healthy),
                   ""});
  }

  // Marked objects no journal claims.
  size_t orphans = 0;
  for (const auto& l : links) {
    if (!is_owner_text(l.alias)) continue;
    std::string id = l.alias.substr(kOwnerPrefix.size());
    if (journaled_ids.contains(id)) continue;
    ++orphans;
    out.push_back({"unjournaled-link", Status::Problem, l.name, "links whose alias starts with topocni:",
                   fmt::format("{} ({}) carries alias {} but no journal in {} is for {}: DEL and GC never remove it",
                               l.name, l.kind.empty() ? "no kind" : l.kind, l.alias, journal.dir(), id),
                   fmt::format("ip link del {}", l.name)});
  }
  for (const auto& r : marked.routes) {
    if (journaled_routes.contains(route_key(r))) continue;
    ++orphans;
    out.push_back({"unjournaled-route", Status::Problem, route_text(r),
                   "routes with protocol 157 (topocni's), every table",
                   fmt::format("{} carries topocni's protocol but no journal holds it", route_text(r)),
                   fmt::format("ip {} route del {} table {} metric {} proto 157", family_flag(r.family()), r.dst.str(),
                               table_name(r.table), effective_metric(r))});
  }
  for (const auto& r : marked.rules) {
    if (journaled_rules.contains(rule_key(r))) continue;
    ++orphans;
    out.push_back({"unjournaled-rule", Status::Problem, rule_selectors(r), "rules with protocol 157 (topocni's)",
                   fmt::format("{} carries topocni's protocol but no journal holds it", rule_selectors(r)),
                   fmt::format("ip {} rule del {} protocol 157", family_flag(r.family), rule_selectors(r))});
  }
  if (orphans == 0) {
    out.push_back({"unjournaled-objects", Status::Ok, "",
                   "links with a topocni: alias, routes and rules with protocol 157, against the journals",
                   fmt::format("{} link(s), {} route(s), {} rule(s) marked, all journaled",
                               std::count_if(links.begin(), links.end(),
                                             [](const auto& l) { return is_owner_text(l.alias); }),
                               marked.routes.size(), marked.rules.size()),
                   ""});
  }
}

}  // namespace topo::cli::doctor
