// One CNI attachment from input to kernel: render the template, observe, diff, journal, apply. The plugin's
// ADD/DEL/CHECK and `topoctl plan` are thin layers over this.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topo/journal.h"
#include "topo/shared_objects.h"
#include "topo/table_allocator.h"
#include "topo/plan.h"
#include "topo/template/template.h"

namespace topo {

// One attachment to render, apply or remove: which template, with which parameters, for which namespace. The
// plugin's layer builds it from CNI input (plugin/cni/request.h); topoctl builds it from its flags.
struct Request {
  Attachment attachment;                                  // network, container id, interface
  std::string template_name;                              // looked up in Options::template_dirs, then built-ins
  nlohmann::json parameters = nlohmann::json::object();  // what the template reads as `config`
  nlohmann::json prev_result;                             // what it reads as `prev`; null when there is none
  std::string netns;                                      // binds the "container" scope; "" for none
  std::string command = "ADD";                            // what it reads as `cni.command`: ADD, DEL or CHECK
  // What a template that declares `ipam: true` reads as `ipam`: an address allocation in CNI 1.x result form
  // ({ips, routes, dns}), null when there is none. The engine runs nothing to get it: the caller does (the
  // plugin runs the IPAM plugin), after asking declarations().
  nlohmann::json ipam = nullptr;
};

// What a template declares about its caller's protocol, before it renders.
struct Declarations {
  bool ipam{false};    // top-level `ipam: true`: it needs Request::ipam
  bool result{false};  // a `result:` section
};

// An interface an ADD created, for the caller's result.
struct CreatedInterface {
  std::string name, mac;
  std::string scope;  // "host" or "container"
};

struct Options {
  std::vector<std::string> template_dirs;  // searched before the built-in templates
  std::string state_dir;                   // "" → Journal's default
  Progress::Hook change_hook{};            // tests only (topo/fault_injection.h): run before every kernel change
  // What an operator must hear about though the command succeeds (a damaged journal found and set aside):
  // one line each. The plugin sends them to stderr and its command log; the default, to stderr.
  std::function<void(const std::string&)> report = [](const std::string& line) {
    std::fprintf(stderr, "topocni: %s\n", line.c_str());
  };

  // Template dirs from $TOPOCNI_TEMPLATE_PATH (colon-separated), else /etc/cni/topocni.d.
  static Options from_environment();
};

struct Planned {
  Plan plan;
  JournalRecord record;  // what ADD journals (DEL: the journal being reversed)
  std::string source;    // where the DEL plan came from: "journal", "template" or "nothing"
  nlohmann::json result;  // ADD: the template's declared result (Rendered::result), null when none
};

class Kernel;

class Attachments {
 public:
  explicit Attachments(Options options);

  // What the request's template declares (it is loaded, not rendered). A query rather than a callback from
  // inside the render: the caller must act before the render (IPAM ADD) and outside the journal lock (an IPAM
  // plugin may take seconds), and on DEL, which renders only when there is no journal. The plugin asks only
  // when the network config has an `ipam` key or no prevResult, so the flagship pays nothing.
  Declarations declarations(const Request& request) const;

  // Dry run: renders, observes and diffs; changes nothing and reserves nothing.
  Planned plan(const Request& request);

  // What a caller of apply_journaled() checks on the way, under the journal lock and before anything
  // changes: an exception from either stops the apply (tables reserved by then are released).
  struct ApplyChecks {
    std::function<void(const std::optional<JournalRecord>& previous)> before_plan;  // the journaled record
    std::function<void(const Planned& planned)> before_journal;                     // the plan to be applied
  };

  // ADD's journaled life cycle, for add() and for topologies (topoctl apply): under the journal lock, plan
  // with the node-scope tables reserved and journal the intent; then apply, undoing everything on failure
  // and narrowing the journal to the record on success. Returns the plan applied.
  Planned apply_journaled(const Request& request, Kernel& kernel, const ApplyChecks& checks = {});

  // ADD: apply the plan; on failure everything this call did is undone before the error propagates. Throws
  // NamespaceError when request.netns is not a network namespace. Returns the interfaces created.
  // `result`, when given, receives the declared result (null when none), each declared interface with the
  // MAC the kernel gave it after the apply.
  std::vector<CreatedInterface> add(const Request& request, nlohmann::json* result = nullptr);

  // DEL: never fails because something is already gone; removes everything ours for the attachment. Throws
  // IncompleteError (the journal stays) when something could not be removed.
  void del(const Request& request);

  // CHECK: throws DriftError naming every difference.
  void check(const Request& request);

  // Removes every attachment of `network.attachment.network` and of `network.template_name` (the conflist entry
  // GC runs for; libcni runs it for each) that topocni journaled and whose (container id, ifname) is not in
  // `keep`, rendering with `network`'s template and parameters where a journal is not enough. A listed pod
  // interface keeps every entry's journal.
  // Keeps going past individual failures; throws IncompleteError listing them. Returns the ids removed.
  std::vector<std::string> gc(const Request& network, const std::set<std::pair<std::string, std::string>>& keep);

  // Throws SystemError when the state directory cannot be written (topocni cannot work).
  void status();

 private:
  // Observe and diff for DEL (and its dry run) from the journal as loaded: `previous` when it read, else
  // `salvaged`, what a damaged one still says. DEL loads it once, for the namespace identity and for this,
  // and executes the plan through the Kernel that observed it, so each namespace's sockets are opened once
  // and their caches serve both steps. `lean` (DEL itself): routes that go with a veth being deleted are
  // neither observed nor deleted one by one; the dry run lists them.
  // `unused_shared`: shared objects this DEL is the last user of, removed with the attachment's own.
  Planned plan_del(const Request& request, Kernel& kernel, const Journal& journal,
                   const std::optional<JournalRecord>& previous, const std::optional<JournalRecord>& salvaged,
                   bool lean, const State& unused_shared);
  // Render, observe and diff for ADD (and its dry run). Mode::Reserve is ADD itself: the allocator reserves
  // tables, and a first ADD does not look for NAT rules of its own (see interest_for_add).
  // `shared_lock` (ADD itself): taken once the template has rendered shared objects, before they are observed.
  Planned plan_add(const Request& request, Kernel& kernel, const Journal& journal,
                   const std::optional<JournalRecord>& previous, TableAllocator::Mode mode,
                   std::optional<SharedObjects::Lock>* shared_lock = nullptr);

  // The request's template, loaded once per process: declarations() and the render that follows it in one
  // command read the same file once (and cannot see two versions of it).
  const Template& template_for(const std::string& name) const;

  Options options_;
  mutable std::map<std::string, std::unique_ptr<Template>> templates_;
};

}  // namespace topo
