#include "topo/attachment.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "kinds/absent.h"
#include "kinds/registry.h"
#include "lifecycle/attachment_lock.h"
#include "lifecycle/attachment_marks.h"
#include "lifecycle/claims.h"
#include "lifecycle/ownership.h"
#include "template/prev.h"
#include "topo/apply.h"
#include "topo/diff.h"
#include "topo/error.h"
#include "topo/hash.h"
#include "topo/journal_format.h"
#include "topo/kernel.h"
#include "topo/model/json.h"
#include "topo/model/scope.h"
#include "topo/table_allocator.h"
#include "topo/template/template.h"

namespace topo {

using nlohmann::json;

namespace {

// The network a journal file belongs to: its directory's name (<state dir>/<network>/<file>.json).
std::string network_dir_of(const std::string& file) { return std::filesystem::path(file).parent_path().filename().string(); }

// Host facts answered by the kernel, in the host scope. One render asks for an interface's addresses once
// per expression that names it (veth-to-host: twice, for its IPv4 and its IPv6 address); the kernel is asked
// once.
class KernelFacts : public HostFacts {
 public:
  explicit KernelFacts(Kernel& kernel) : kernel_(kernel) {}
  std::vector<std::string> addresses(const std::string& ifname) override {
    if (auto known = addresses_.find(ifname); known != addresses_.end()) return known->second;
    if (!kernel_.link_info(kHostScope, ifname)) {
      throw ConflictError(fmt::format("host interface '{}' does not exist", ifname));
    }
    std::vector<std::string> out;
    for (const IpPrefix& p : kernel_.addresses_of(kHostScope, ifname)) out.push_back(p.str());
    addresses_.emplace(ifname, out);
    return out;
  }
  std::optional<std::string> source_toward(const std::string& ip) override {
    auto dst = IpAddress::parse(ip);
    if (!dst) return std::nullopt;
    auto route = kernel_.route_toward(kHostScope, *dst);
    if (!route || !route->source) return std::nullopt;
    return route->source->str();
  }
  std::optional<std::string> default_interface(Family family) override {
    return kernel_.default_route_dev(kHostScope, family);
  }
  std::optional<json> link(const std::string& ifname) override {
    auto info = kernel_.link_info(kHostScope, ifname);
    if (!info) return std::nullopt;
    return host_link_fact(ifname, info->kind, info->mtu, info->mac, info->up);
  }
  std::optional<std::string> sysctl(const std::string& name) override { return kernel_.read_sysctl(kHostScope, name); }
  bool supports_link_kind(const std::string& kind) override {
    // A kind name becomes a module name (request_module("rtnl-link-<kind>")): only what a kind can be.
    if (kind.empty() || kind.size() > 15 || kind.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      throw ConflictError(fmt::format("'{}' is not a link kind", kind));
    return kernel_.supports_link_kind(kHostScope, kind);
  }

 private:
  Kernel& kernel_;
  std::map<std::string, std::vector<std::string>> addresses_;
};

// Drops the attachment's reservations of the tables in `dropped` that `kept` does not hold as well.
void release_dropped_tables(const Journal& journal, const Attachment& a, const json& dropped, const json& kept) {
  std::vector<uint32_t> still = tables_of(kept), gone;
  for (uint32_t t : tables_of(dropped))
    if (std::find(still.begin(), still.end(), t) == still.end()) gone.push_back(t);
  if (!gone.empty()) TableReservations(journal).release(a, gone);
}

struct Rendering {
  Rendered rendered;
  std::string template_name;
};

Template load_template(const Options& options, const TemplateLibrary& library, const std::string& name) {
  auto source = library.find(name);
  if (!source) {
    throw TemplateNotFoundError(name,
                                fmt::format("searched {} and the built-in templates",
                                            options.template_dirs.empty() ? "no directory"
                                                                          : fmt::format("{}", fmt::join(options.template_dirs, ", "))));
  }
  return Template::load(*source, &library);
}

Rendering render(const Template& tmpl, const Request& req, Kernel& kernel, Allocator& allocator) {
  KernelFacts facts(kernel);
  const Attachment& a = req.attachment;
  RenderContext ctx;
  ctx.config = req.parameters;
  ctx.cni = {{"containerId", a.container_id}, {"ifname", a.ifname},   {"netns", req.netns},
             {"network", a.network},          {"command", req.command}, {"attachment", a.interface_id()}};
  ctx.prev = req.prev_result;
  ctx.ipam = req.ipam;
  ctx.facts = &facts;
  ctx.allocator = &allocator;
  Rendering r{tmpl.render(ctx), req.template_name};
  stamp(r.rendered.state, owner_mark(a));
  stamp(r.rendered.shared, kSharedOwner);
  return r;
}

json prev_result_of(const Request& req) { return tmpl::prev_for_journal(req.prev_result); }

// The request acting on the identity Journal::resolve() picks for it: its own, or after an upgrade the
// journal its pod interface had before attachments named their plugin.
Request resolved(const Journal& journal, const Request& req) {
  Request r = req;
  r.attachment = journal.resolve(req.attachment);
  return r;
}

// The attachment's objects found by their marks alone (see attachment_marks.h). A rule another attachment's
// journal holds is never taken for an orphan.
State marks_of(const Journal& journal, const Request& req) {
  Attachment a = req.attachment;
  std::vector<Rule> claimed;
  Journal::Listing listing = journal.list();  // a newer format's journal: refused, it may claim any rule
  for (const Journal::Damaged& d : listing.damaged) listing.records.push_back(d.record);  // what they still say
  for (const JournalRecord& r : listing.records) {
    if (r.attachment.id() == a.id()) continue;
    claimed.insert(claimed.end(), r.state.of<Rule>().begin(), r.state.of<Rule>().end());
  }
  return find_by_marks(cni_scopes(req.netns), owner_mark(a).text(), [&](const Rule& rule) {
    return std::any_of(claimed.begin(), claimed.end(), [&](const Rule& c) { return c.key() == rule.key(); });
  });
}

// A kill between creating a link and marking it leaves a link without our alias: rtnl_newlink ignores
// IFLA_IFALIAS when it creates a link, so the alias is set by a second request. The journaled intent (stored
// before the link was created) vouches for exactly that link:
//   - a veth with no alias at all, of the journaled name, whose peer is the journaled peer name in the
//     journaled scope;
//   - any other kind with no alias, of the journaled kind, under the journaled link's creation_name() (links
//     other than veths are created under it and renamed when marked).
// DEL then deletes it, and a new ADD deletes or marks it.
void vouch_for_unmarked_links(State& observed, const State& journaled) {
  for (Link& o : observed.of<Link>()) {
    if (o.owned || !o.alias.empty() || o.kind == LinkKind::Existing) continue;
    for (const Link& j : journaled.of<Link>()) {
      if (j.kind != o.kind || j.scope != o.scope) continue;
      if (o.kind == LinkKind::Veth ? (!o.peer_name.empty() && j.name == o.name && j.peer_name == o.peer_name &&
                                      j.peer_scope == o.peer_scope)
                                   : o.name == creation_name(j))
        o.owned = true;
    }
  }
}

template <class K>
bool holds_key(const std::vector<K>& objects, const K& o) {
  return std::any_of(objects.begin(), objects.end(), [&](const K& x) { return x.key() == o.key(); });
}

// `s` without the objects whose key `keys` holds.
void drop_keys(State& s, const State& keys) {
  AllKinds::each([&]<class K>() { std::erase_if(s.of<K>(), [&](const K& o) { return holds_key(keys.of<K>(), o); }); });
}

// The observed objects whose key `foreign` holds lose their mark for this diff: another entry of the chain's
// (lifecycle/claims.h), replaced by a takeover and journaled as taken over like someone else's.
void treat_as_foreign(State& observed, const State& foreign) {
  AllKinds::each([&]<class K>() {
    for (K& o : observed.of<K>())
      if constexpr (requires { o.owned; })
        if (holds_key(foreign.of<K>(), o)) o.owned = false;
  });
}

// The kernel says a link is topocni's when its alias has our prefix: one with another attachment's alias (an
// earlier entry of the chain's pod interface, the link the macvlan template made, which veth-to-host names as
// a device of its sysctls and routes) is a reference here, never this attachment's to delete.
void disown_others_links(State& observed, const Attachment& a) {
  const std::string mine = owner_mark(a).text(), shared = kSharedOwner.text();
  for (Link& l : observed.of<Link>())
    if (l.owned && !l.alias.empty() && l.alias != mine && l.alias != shared) l.owned = false;
}

// A takeover's original that is in place already (a kill came before the takeover replaced it; another entry
// of the chain's, whose mark would make it look like ours): neither deleted nor put back.
void keep_originals_in_place(State& observed, State& taken_over) {
  AllKinds::each([&]<class K>() {
    if constexpr (AbsentCapable<K>) {
      std::erase_if(taken_over.of<K>(), [&](const K& t) {
        auto it = std::find_if(observed.of<K>().begin(), observed.of<K>().end(),
                               [&](const K& o) { return o.key() == t.key() && KindOps<K>::owned(o) && o == t; });
        if (it == observed.of<K>().end()) return false;
        observed.of<K>().erase(it);
        return true;
      });
    }
  });
}

// What ADD asks the kernel about: the new desired state and whatever an earlier ADD journaled. The first ADD
// itself (`lean`, no earlier record) does not look for NAT rules: ADD journals its intent before it creates
// anything, so with no record there is no rule of this attachment to find, and the only way to look is a dump
// of every pod's rule in the chain (on a node with 300 pods, two fifths of an ADD's kernel time). Should one
// exist anyway (a journal deleted by hand), DEL still finds every rule by its owner comment. The dry run
// (`topoctl plan`) and CHECK look for real.
State interest_for_add(const State& desired, const std::optional<JournalRecord>& previous, bool lean) {
  if (previous) return merge(desired, previous->state);
  State interest = desired;
  if (lean) interest.of<NatEntry>().clear();
  return interest;
}

// What DEL asks about: the journaled objects, plus the interfaces and keys of routes to put back, plus every
// NAT rule carrying the attachment's owner comment in either scope (a re-rendered state without prevResult
// knows none of them, and the comment alone identifies them).
State interest_for_del(const JournalRecord& record) {
  State interest = record.state;
  for (const char* scope : {kHostScope, kContainerScope}) {
    NatEntry owner;
    owner.scope = scope;
    owner.owner = owner_mark(record.attachment).owner;
    interest.of<NatEntry>().push_back(owner);
  }
  AllKinds::each([&]<class K>() {
    if constexpr (AbsentCapable<K>) {
      // An absent key names no object of ours: what holds it now is someone else's (the original, put back,
      // or another attachment's since), never DEL's to delete.
      std::erase_if(interest.of<K>(), [](const K& o) { return o.absent; });
      for (const K& t : record.taken_over.of<K>()) {
        if (std::string dev = restore_device(t); !dev.empty()) {
          Link l;
          l.scope = t.scope;
          l.name = dev;
          l.kind = LinkKind::Existing;
          add_missing(interest.of<Link>(), {l});
        }
        add_missing(interest.of<K>(), {t});
      }
    }
  });
  return interest;
}

// What DEL observes. The dry run (`lean` false) asks about everything interest_for_del names. DEL itself
// (`lean`) does not look for the routes that leave through an end of a veth it deletes: a route dump, even
// one filtered by table and interface, walks the whole table in the kernel (100,000 routes in the node's
// main table: 7 ms). It takes them as journaled and deletes them before the veth; one that is not there
// answers ESRCH, which DEL counts as done. Deleting them first matters too: when a device goes with IPv4
// routes still on it, the kernel flushes every FIB table of the namespace (fib_disable_ip → fib_flush),
// which with 100,000 routes costs about as much again. The links are observed first, to know which veths
// are there to be deleted. A route sharing its key with one a takeover replaced is left to the veth instead:
// that key is observed for real (whether it is free decides whether the original is put back), and a
// journaled copy next to it would make two routes of one key.
State observe_for_del(Kernel& kernel, const JournalRecord& record, bool lean) {
  State interest = interest_for_del(record);
  if (!lean) return kernel.observe(interest);
  State links;
  links.of<Link>() = std::move(interest.of<Link>());
  interest.of<Link>().clear();
  State seen = kernel.observe(links);
  std::set<std::pair<std::string, std::string>> dying;  // (scope, ifname): ends of every veth diff_destroy deletes
  for (const Link& l : seen.of<Link>()) {
    if (l.kind != LinkKind::Veth) continue;
    dying.emplace(l.scope, l.name);
    if (!l.peer_name.empty()) dying.emplace(l.peer_scope.empty() ? l.scope : l.peer_scope, l.peer_name);
  }
  auto taken_over_key = [&](const Route& r) {
    return std::any_of(record.taken_over.of<Route>().begin(), record.taken_over.of<Route>().end(),
                       [&](const Route& t) { return t.key() == r.key(); });
  };
  std::vector<Route> assumed;
  std::erase_if(interest.of<Route>(), [&](const Route& r) {
    if (!dying.contains({r.scope, r.dev})) return false;
    if (!taken_over_key(r)) {
      assumed.push_back(r);
      assumed.back().owned = true;  // ours by construction: the journal holds only what we created
    }
    return true;
  });
  add_missing(interest.of<Route>(), record.taken_over.of<Route>());
  State observed = kernel.observe(interest);
  observed.of<Link>() = std::move(seen.of<Link>());
  add_missing(observed.of<Route>(), assumed);
  return observed;
}

// Foreign objects a takeover replaces, and sysctl values before our first write, go to the journal.
void record_originals(const Plan& plan, JournalRecord& record, const std::optional<JournalRecord>& previous) {
  if (previous) record.taken_over = previous->taken_over;
  for (const Change& c : plan.changes) {
    // A foreign object removed (state: absent) or replaced (a route's takeover) is put back on DEL.
    const Object* before = c.action == Action::Replace && c.previous ? &*c.previous
                           : c.action == Action::Delete              ? &c.object
                                                                     : nullptr;
    if (!before) continue;
    std::visit(
        [&]<class K>(const K& old) {
          if constexpr (AbsentCapable<K>) {
            if (!KindOps<K>::owned(old) && worth_restoring(old)) add_missing(record.taken_over.of<K>(), {old});
          }
        },
        *before);
  }
  for (Sysctl& s : record.state.of<Sysctl>()) {
    const Sysctl* before = nullptr;
    if (previous) {
      for (const Sysctl& p : previous->state.of<Sysctl>()) {
        if (p.key() == s.key() && p.previous) before = &p;
      }
    }
    if (before) {
      s.previous = before->previous;
      continue;
    }
    for (const Change& c : plan.changes) {
      const Sysctl* old = c.previous ? std::get_if<Sysctl>(&*c.previous) : nullptr;
      if (old && old->key() == s.key()) s.previous = old->value;
    }
  }
}

// After a failed first ADD: deletes whatever of ours the journaled intent names that the rollback left
// (none, normally). True when nothing is left.
bool remove_leftovers(Kernel& kernel, const Journal& journal, const Attachment& a) {
  try {
    auto intent = journal.load(a);
    if (!intent) return true;
    intent->taken_over = State{};  // the rollback restored them; nothing to put back twice
    Plan cleanup = diff_destroy(intent->state, kernel.observe(interest_for_del(*intent)), State{});
    if (cleanup.empty()) return true;
    fmt::print(stderr, "topocni: rollback left {} object(s); removing them\n", cleanup.changes.size());
    auto failures = apply_keep_going(cleanup.changes, kernel);
    if (failures.empty()) return true;
    fmt::print(stderr, "topocni: cleanup after a failed ADD left {} object(s), keeping the journal for DEL (or destroy): {}\n",
               failures.size(), fmt::join(failures, "; "));
    return false;
  } catch (const std::exception& e) {
    fmt::print(stderr, "topocni: cleanup after a failed ADD failed, keeping the journal for DEL (or destroy): {}\n",
               e.what());
    return false;
  }
}

// After a failed ADD (rolled back): the registrations it added go, and a shared object it was then the only
// user of (the rollback removed what it created) is removed if it is still there.
void release_after_failed_add(Kernel& kernel, const SharedObjects& shared, std::vector<SharedEntry>& registry,
                              const State& declared, const std::optional<JournalRecord>& previous,
                              const Attachment& a) {
  try {
    State added = previous ? without_keys_of(declared, previous->shared) : declared;
    State unused = release_user(registry, added, a.id());
    if (!unused.empty()) {
      auto failures = apply_keep_going(diff_destroy(unused, kernel.observe(unused), State{}).changes, kernel);
      if (!failures.empty()) return;  // still registered: the journal's DEL finishes it
    }
    shared.store(registry);
  } catch (const std::exception& e) {
    fmt::print(stderr, "topocni: releasing the shared objects of a failed ADD failed, DEL will: {}\n", e.what());
  }
}

std::vector<CreatedInterface> created_interfaces(const State& state, Kernel& kernel) {
  std::vector<CreatedInterface> out;
  for (const Link& l : state.of<Link>()) {
    if (l.kind == LinkKind::HostDevice) {  // the node device, under its pod name
      auto info = kernel.link_info(l.scope, l.name);
      out.push_back({l.name, info ? info->mac : "", l.scope});
    }
    if (l.kind != LinkKind::Veth) continue;
    auto add_end = [&](const std::string& scope, const std::string& name) {
      auto info = kernel.link_info(scope, name);
      out.push_back({name, info ? info->mac : "", scope});
    };
    add_end(l.scope, l.name);
    add_end(l.peer_scope, l.peer_name);
  }
  return out;
}

}  // namespace

Options Options::from_environment() {
  Options o;
  const char* path = std::getenv("TOPOCNI_TEMPLATE_PATH");
  std::string dirs = path && *path ? path : "/etc/cni/topocni.d";
  std::stringstream ss(dirs);
  for (std::string d; std::getline(ss, d, ':');) {
    if (!d.empty()) o.template_dirs.push_back(d);
  }
  return o;
}

Attachments::Attachments(Options options) : options_(std::move(options)) {}

Declarations Attachments::declarations(const Request& req) const {
  const Template& tmpl = template_for(req.template_name);
  return {tmpl.declares_ipam(), tmpl.declares_result()};
}

const Template& Attachments::template_for(const std::string& name) const {
  auto it = templates_.find(name);
  if (it != templates_.end()) return *it->second;
  TemplateLibrary library(options_.template_dirs);
  auto loaded = std::make_unique<Template>(load_template(options_, library, name));
  return *templates_.emplace(name, std::move(loaded)).first->second;
}

Planned Attachments::plan(const Request& request) {
  Kernel kernel(cni_scopes(request.netns));
  kernel.set_change_hook(options_.change_hook);
  Journal journal(options_.state_dir);
  const Request req = resolved(journal, request);
  Attachment a = req.attachment;
  std::optional<JournalRecord> previous, salvaged;  // salvaged: what a damaged journal still says (DEL only)
  try {
    previous = journal.load(a);
  } catch (const JournalDamagedError& e) {
    if (req.command != "DEL") throw;
    salvaged = e.record;
  }
  if (req.command == "DEL") {
    State unused;
    if (const auto& readable = previous ? previous : salvaged; readable && !readable->shared.empty()) {
      std::vector<SharedEntry> entries = SharedObjects(journal.dir()).load();
      unused = release_user(entries, readable->shared, a.id());
    }
    return plan_del(req, kernel, journal, previous, salvaged, false, unused);
  }
  return plan_add(req, kernel, journal, previous, TableAllocator::Mode::Preview);
}

Planned Attachments::plan_del(const Request& req, Kernel& kernel, const Journal& journal,
                              const std::optional<JournalRecord>& previous,
                              const std::optional<JournalRecord>& salvaged, bool lean,
                              const State& unused_shared) {
  Attachment a = req.attachment;
  Planned out;
  if (previous) {
    out.record = *previous;
    out.source = "journal";
  } else {
    out.record = {a, "", req.netns, json::object(), prev_result_of(req), {}, {}};
    out.source = "marks";
    try {
      // Preview: a re-rendering for DEL must not reserve tables.
      TableAllocator allocator(journal, &kernel, a, json(), TableAllocator::Mode::Preview);
      auto r = render(template_for(req.template_name), req, kernel, allocator);
      out.record = {a, r.template_name, req.netns, r.rendered.allocations, prev_result_of(req), r.rendered.state, {}};
      out.source = "template";
    } catch (const std::exception& e) {
      fmt::print(stderr, "topocni: no journal for {} and the template does not render ({}); using ownership marks\n",
                 a.id(), e.what());
    }
    // The marks complete a re-rendering too: without the journal it cannot know the table ADD allocated,
    // and without prevResult not the pod's addresses.
    out.record.state = merge(out.record.state, marks_of(journal, req));
    if (salvaged) {
      // What the damaged journal still says first: its objects (only those the kernel shows as ours are
      // deleted), the sysctl values and the routes a takeover replaced, to put back.
      out.record.state = merge(salvaged->state, out.record.state);
      out.record.taken_over = salvaged->taken_over;
      if (!salvaged->allocations.empty()) out.record.allocations = salvaged->allocations;
      out.source = "damaged journal";
    }
  }
  // What goes: the attachment's own objects, and the shared ones it was the last user of.
  JournalRecord doomed = out.record;
  doomed.state = merge(doomed.state, unused_shared);
  State observed = observe_for_del(kernel, doomed, lean);
  if (out.source == "journal") vouch_for_unmarked_links(observed, doomed.state);
  disown_others_links(observed, a);
  // Another entry of the chain holds some of its keys by a takeover (a DEL out of order): theirs, left alone.
  drop_keys(observed, lent_to_siblings(out.record.state, observed, journal, a, false));
  State taken_over = out.record.taken_over;
  keep_originals_in_place(observed, taken_over);
  out.plan = diff_destroy(doomed.state, observed, taken_over);
  return out;
}

Planned Attachments::plan_add(const Request& req, Kernel& kernel, const Journal& journal,
                              const std::optional<JournalRecord>& previous, TableAllocator::Mode mode,
                              std::optional<SharedObjects::Lock>* shared_lock) {
  Attachment a = req.attachment;
  TableAllocator allocator(journal, &kernel, a, previous ? previous->allocations : json(), mode);
  try {
    auto r = render(template_for(req.template_name), req, kernel, allocator);
    // What DEL puts back on objects someone else made that this ADD moves or changes, before any change.
    AllKinds::each([&]<class K>() {
      if constexpr (requires { KindOps<K>::take_origins(kernel, r.rendered.state.of<K>(), r.rendered.state.of<K>()); })
        KindOps<K>::take_origins(kernel, r.rendered.state.of<K>(), previous ? previous->state.of<K>() : std::vector<K>{});
    });
    // Shared objects are looked at and created under their lock: no DEL may find them unused in between.
    if (shared_lock && !r.rendered.shared.empty()) shared_lock->emplace(SharedObjects(journal.dir()).lock());
    State desired = merge(r.rendered.state, r.rendered.shared);
    Planned out;
    State observed = kernel.observe(interest_for_add(desired, previous, mode == TableAllocator::Mode::Reserve));
    if (previous) vouch_for_unmarked_links(observed, merge(previous->state, previous->shared));
    // Shared objects are nobody's alone: only the attachment's own are checked against other journals.
    State from_siblings = refuse_objects_of_others(r.rendered.state, observed, previous, journal, a, req.netns);
    treat_as_foreign(observed, from_siblings);
    disown_others_links(observed, a);
    // What a later entry of the chain took over stays with it until its DEL puts ours back (still journaled).
    // Only an attachment with a journal can have lent anything: a first ADD pays nothing for this.
    if (previous) {
      State lent = lent_to_siblings(r.rendered.state, observed, journal, a, true);
      drop_keys(desired, lent);
      drop_keys(observed, lent);
    }
    out.plan = diff(desired, observed);
    out.record = {a, r.template_name, req.netns, r.rendered.allocations, prev_result_of(req), r.rendered.state, {}};
    out.record.shared = r.rendered.shared;
    out.record.netns_identity = netns_identity_text(req.netns);  // DEL verifies it (cni_scopes)
    out.result = r.rendered.result;
    record_originals(out.plan, out.record, previous);
    return out;
  } catch (...) {
    if (!allocator.reserved().empty()) TableReservations(journal).release(a, allocator.reserved());
    throw;
  }
}

std::vector<CreatedInterface> Attachments::add(const Request& req, json* result) {
  Kernel kernel(cni_scopes(req.netns));
  kernel.set_change_hook(options_.change_hook);
  if (!kernel.has_scope(kContainerScope)) throw NamespaceError(req.netns, "");
  Planned planned = apply_journaled(req, kernel);
  if (result) {
    // A template cannot know the MAC of a link it creates: the kernel gives it one now.
    *result = planned.result;
    if (result->is_object() && result->contains("interfaces"))
      for (json& i : (*result)["interfaces"]) {
        auto info = kernel.link_info(i["scope"].get<std::string>(), i["name"].get<std::string>());
        i["mac"] = info ? info->mac : "";
      }
  }
  return created_interfaces(planned.record.state, kernel);
}

Planned Attachments::apply_journaled(const Request& request, Kernel& kernel, const ApplyChecks& checks) {
  Journal journal(options_.state_dir);
  const Request req = resolved(journal, request);
  Attachment a = req.attachment;
  AttachmentLock held(journal, a);
  std::optional<JournalRecord> previous;
  Planned planned;
  SharedObjects shared(journal.dir());
  std::optional<SharedObjects::Lock> shared_lock;  // held to the end when the template has shared objects
  std::vector<SharedEntry> registry;
  {
    // Allocation and the intent record happen under the journal lock, so parallel ADDs never pick the same
    // table; the slow kernel work below runs without it.
    auto lock = journal.lock();
    previous = journal.load(a);
    if (checks.before_plan) checks.before_plan(previous);
    planned = plan_add(req, kernel, journal, previous, TableAllocator::Mode::Reserve, &shared_lock);
    try {
      if (checks.before_journal) checks.before_journal(planned);
      // Registered as a user of its shared objects: checked first (a conflicting declaration fails the ADD
      // before anything is written), stored after the journal (which then already names them for DEL).
      if (shared_lock) {
        registry = shared.load();
        register_user(registry, planned.record.shared, a.id());
      }
      // Intent: the union of old and new, so a crash mid-apply leaves DEL knowing every object that may exist.
      JournalRecord intent = planned.record;
      if (previous) {
        intent.state = merge(planned.record.state, previous->state);
        intent.shared = merge(planned.record.shared, previous->shared);
      }
      journal.store(intent);
      if (shared_lock) shared.store(registry);
    } catch (...) {
      release_dropped_tables(journal, a, planned.record.allocations, previous ? previous->allocations : json());
      throw;
    }
  }
  try {
    apply(planned.plan, kernel);
  } catch (...) {
    // apply() has undone what took effect; so is the journal, unless something of ours is still there (the
    // undo itself failed): then the intent stays, for DEL.
    if (shared_lock) release_after_failed_add(kernel, shared, registry, planned.record.shared, previous, a);
    if (previous) {
      journal.store(*previous);
      release_dropped_tables(journal, a, planned.record.allocations, previous->allocations);
    } else if (remove_leftovers(kernel, journal, a)) {
      journal.remove(a);
      held.remove_on_release();
      release_dropped_tables(journal, a, planned.record.allocations, json());
    }
    throw;
  }
  // The intent journaled above is this record already unless an earlier ADD's objects were merged into it:
  // only then is there something to narrow down (storing costs a JSON dump and a rename, ~0.5 ms).
  if (previous) {
    journal.store(planned.record);
    release_dropped_tables(journal, a, previous->allocations, planned.record.allocations);
  }
  return planned;
}

void Attachments::del(const Request& request) {
  Journal journal(options_.state_dir);
  const Request req = resolved(journal, request);
  AttachmentLock held(journal, req.attachment);
  // The container side only in the namespace ADD configured (its identity is journaled).
  std::optional<JournalRecord> journaled, salvaged;
  std::optional<JournalDamagedError> damaged;
  try {
    journaled = journal.load(req.attachment);
  } catch (const JournalDamagedError& e) {
    // Said, then DEL goes on with what can be read and the marks (plan); the file is set aside below.
    damaged.emplace(e);
    salvaged = e.record;
    options_.report(fmt::format("{}; removing what the ownership marks find and restoring what it still says",
                                e.what()));
  }
  const std::optional<JournalRecord>& readable = journaled ? journaled : salvaged;
  Kernel kernel(cni_scopes(req.netns, readable ? readable->netns_identity : ""));
  kernel.set_change_hook(options_.change_hook);
  // Its shared objects: unregistered, and removed when it was their last user, all under their lock.
  SharedObjects shared(journal.dir());
  std::optional<SharedObjects::Lock> shared_lock;
  std::vector<SharedEntry> registry;
  State unused_shared;
  if (readable && !readable->shared.empty()) {
    shared_lock.emplace(shared.lock());
    registry = shared.load();
    unused_shared = release_user(registry, readable->shared, req.attachment.id());
  }
  Planned planned = plan_del(req, kernel, journal, journaled, salvaged, true, unused_shared);
  // DEL keeps going past a step the kernel refuses (no rollback: re-creating what was just removed helps
  // nobody); the journal then stays, so a later DEL can finish.
  std::vector<std::string> failures = apply_keep_going(planned.plan.changes, kernel);
  if (!failures.empty())
    throw IncompleteError(fmt::format("DEL could not remove {} object(s)", failures.size()), std::move(failures));
  if (shared_lock) {
    shared.store(registry);  // unregistered once its objects are gone; before the journal that names them
    shared_lock.reset();     // before the journal lock below (ADD takes them the other way round)
  }
  if (damaged) {
    // Not deleted as if honoured: kept for an operator (topoctl doctor lists it), out of the next ADD's way.
    // DEL then succeeds: everything ours that can still be found is gone, and a DEL that failed instead would
    // be retried forever by the runtime with nothing more to find.
    options_.report(fmt::format("damaged journal set aside as {}", journal.set_aside(damaged->file)));
  }
  journal.remove(req.attachment);
  held.remove_on_release();
  release_dropped_tables(journal, req.attachment, planned.record.allocations, json());
}

void Attachments::check(const Request& request) {
  Journal journal(options_.state_dir);
  const Request req = resolved(journal, request);
  AttachmentLock held(journal, req.attachment);
  // The namespace must be the one ADD configured: comparing a pod's template against another namespace
  // (the node's own, a recycled path) would report drift that is not there, or hide drift that is.
  if (auto journaled = journal.load(req.attachment); journaled && !journaled->netns_identity.empty() &&
                                                       netns_identity_text(req.netns) != journaled->netns_identity)
    throw NamespaceError(req.netns, "it is not the network namespace ADD configured for " + req.attachment.id());
  Planned planned = plan(req);
  if (planned.plan.empty()) return;
  std::vector<std::string> differences;
  for (const Change& c : planned.plan.changes) {
    static const char* kVerbs[] = {"missing", "unexpected", "differs"};
    differences.push_back(
        fmt::format("{} in {}: {}", kVerbs[static_cast<int>(c.action)], scope_of(c.object), describe(c.object)));
  }
  throw DriftError(std::move(differences));
}

std::vector<std::string> Attachments::gc(const Request& network,
                                         const std::set<std::pair<std::string, std::string>>& keep) {
  Journal journal(options_.state_dir);
  std::vector<std::string> removed, failures;
  // A newer format's journal anywhere: GC refuses before it changes anything (JournalFormatError).
  Journal::Listing listing = journal.list();
  for (const Journal::Damaged& d : listing.damaged) {
    if (d.attachment_known) {
      listing.records.push_back(d.record);  // handled by del() as a DEL would: reported, cleaned, set aside
    } else if (network_dir_of(d.file) == network.attachment.network) {
      // Whose it is cannot be read, so no mark can find its objects (topoctl doctor lists them); the file is
      // kept for an operator, out of the way.
      try {
        options_.report(fmt::format("damaged journal {} names no attachment ({}); set aside as {}", d.file,
                                    fmt::format("{}", fmt::join(d.problems, "; ")), journal.set_aside(d.file)));
      } catch (const std::exception& e) {
        failures.push_back(fmt::format("{}: {}", d.file, e.what()));
      }
    }
  }
  for (const JournalRecord& r : listing.records) {
    const Attachment& a = r.attachment;
    if (a.network != network.attachment.network || keep.contains({a.container_id, a.ifname})) continue;
    // Each entry of the conflist collects its own attachments (libcni runs GC for every entry): another
    // template's are that entry's, removed with its journal when its own GC runs. A journal from before
    // attachments named their plugin belongs to the entry of its template.
    if ((a.plugin.empty() ? r.template_name : a.plugin) != network.template_name) continue;
    Request req = network;
    req.attachment = a;
    req.netns = r.netns;
    req.prev_result = nullptr;
    req.command = "DEL";
    try {
      del(req);
      removed.push_back(a.id());
    } catch (const IncompleteError& e) {
      failures.push_back(fmt::format("{}: {} ({})", a.id(), e.what(), fmt::join(e.failures, "; ")));
    } catch (const std::exception& e) {
      failures.push_back(fmt::format("{}: {}", a.id(), e.what()));
    }
  }
  if (!failures.empty())
    throw IncompleteError(fmt::format("GC could not remove {} attachment(s)", failures.size()), std::move(failures));
  return removed;
}

void Attachments::status() {
  Journal journal(options_.state_dir);
  JournalRecord probe;
  probe.attachment = {".status", "probe", "probe"};
  journal.store(probe);
  journal.remove(probe.attachment);
}

}  // namespace topo
