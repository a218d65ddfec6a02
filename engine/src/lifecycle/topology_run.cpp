#include "topo/topology_run.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "topo/apply.h"
#include "topo/diff.h"
#include "topo/error.h"
#include "topo/kernel.h"
#include "topo/model/scope.h"
#include "topo/netns.h"

namespace topo {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The engine request of a topology: the template file's stem names the template, found first in the file's
// own directory.
struct Translated {
  Request request;
  Options options;
};

Translated translate(const TopologyRequest& tr) {
  validate_topology_name(tr.name);
  fs::path file(tr.template_file);
  if (file.extension() != ".yaml") {
    throw Error(fmt::format("{}: a template file must be named NAME.yaml (the stem is the template's name)",
                            tr.template_file));
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw Error(fmt::format("{}: no such file", tr.template_file));
  if (!tr.values.is_object()) throw Error("parameter values must be a map");
  if (!tr.netns.empty() && !netns_path_exists(tr.netns)) {
    throw Error(fmt::format("--netns {}: not a network namespace", tr.netns));
  }
  // The file's own directory is searched first, so the library finds exactly this file by its stem.
  std::string dir = file.parent_path().empty() ? "." : file.parent_path().string();
  Request request{topology_attachment(tr.name), file.stem().string(), tr.values, tr.prev_result, tr.netns, "ADD"};
  return {std::move(request), Options{{dir}, tr.state_dir}};
}

// A template that speaks of the container scope needs --netns; without it the objects would be planned into
// a namespace that is not there.
void check_scopes(const State& s, const std::string& netns) {
  if (!netns.empty()) return;
  auto in_container = [](const auto& v) {
    return std::any_of(v.begin(), v.end(), [](const auto& o) { return o.scope == kContainerScope; });
  };
  bool peer_in_container = std::any_of(s.of<Link>().begin(), s.of<Link>().end(), [](const Link& l) {
    return l.kind == LinkKind::Veth && l.peer_scope == kContainerScope;
  });
  bool any = peer_in_container;
  AllKinds::each([&]<class K>() { any = any || in_container(s.of<K>()); });
  if (any) {
    throw Error("the template has objects in the 'container' scope: bind it with --netns PATH");
  }
}

Request del_request(const JournalRecord& record) {
  return Request{record.attachment, record.template_name, json::object(), nullptr, record.netns, "DEL"};
}

// Whether the kernel object carries our mark; kinds without one (sysctls) count as ours. An existing link is
// never ours: that it exists is all the journal asks.
template <class T>
bool owned(const T& observed) {
  if constexpr (requires { observed.owned; }) {
    return observed.owned;
  } else {
    return true;
  }
}

// A reference to someone else's link: that it exists is all the journal asks. One whose attributes the
// attachment changes is compared on those (observe reports only them).
template <class T>
bool existing_link(const T& journaled) {
  if constexpr (std::is_same_v<T, Link>) {
    return journaled.kind == LinkKind::Existing && !changes_existing(journaled);
  } else {
    return false;
  }
}

template <class T>
bool claims(const T& journaled) {
  if constexpr (std::is_same_v<T, Link>) {
    return changes_existing(journaled);
  } else {
    return false;
  }
}

template <class T>
void verify_kind(const std::vector<T>& journaled, const std::vector<T>& observed, const Kernel& kernel,
                 std::vector<ObjectStatus>& out) {
  for (const T& j : journaled) {
    Object obj = j;
    ObjectStatus s{j.scope, std::string(kind_name(obj)), describe(obj), "ok"};
    auto it = std::find_if(observed.begin(), observed.end(), [&](const T& o) { return o.key() == j.key(); });
    if (!kernel.has_scope(j.scope)) {
      s.status = "namespace gone";
    } else if (it == observed.end()) {
      s.status = "missing";
    } else if (existing_link(j)) {
      s.status = "ok";
    } else if (!owned(*it) && !claims(j)) {
      s.status = "not ours";
    } else if (!(*it == j)) {
      s.status = "differs";
    }
    out.push_back(std::move(s));
  }
}

std::vector<ObjectStatus> verify(const JournalRecord& record) {
  Kernel kernel(cni_scopes(record.netns));
  State observed = kernel.observe(record.state);
  std::vector<ObjectStatus> out;
  // In the order creates run, as plans list them.
  AllKinds::each([&]<class K>() { verify_kind(record.state.of<K>(), observed.of<K>(), kernel, out); });
  return out;
}

}  // namespace

void validate_topology_name(const std::string& name) {
  auto ok_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; };
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), ok_char)) {
    throw Error(fmt::format("invalid topology name '{}': 1 to 64 letters, digits, '_', '.' or '-', starting with "
                            "a letter or digit",
                            name));
  }
}

Attachment topology_attachment(const std::string& name) { return {kTopologyNetwork, name, kTopologyIfname}; }

Topologies::Topologies(std::string state_dir) : state_dir_(std::move(state_dir)) {}

Planned Topologies::plan(const TopologyRequest& tr) {
  Translated t = translate(tr);
  Planned planned = Attachments(t.options).plan(t.request);
  check_scopes(planned.record.state, tr.netns);
  return planned;
}

Planned Topologies::apply(const TopologyRequest& tr) {
  Translated t = translate(tr);
  Kernel kernel(cni_scopes(tr.netns));
  Attachments::ApplyChecks checks;
  checks.before_plan = [&](const std::optional<JournalRecord>& previous) {
    if (previous && previous->netns != tr.netns) {
      throw Error(fmt::format("topology '{}' was applied with --netns '{}'; destroy it before moving it", tr.name,
                              previous->netns));
    }
  };
  checks.before_journal = [&](const Planned& planned) { check_scopes(planned.record.state, tr.netns); };
  return Attachments(t.options).apply_journaled(t.request, kernel, checks);
}

Planned Topologies::plan_destroy(const std::string& name) {
  validate_topology_name(name);
  Journal journal(state_dir_);
  auto record = journal.load(topology_attachment(name));
  if (!record) throw Error(fmt::format("no topology named '{}' (no journal under {})", name, journal.dir()));
  return Attachments(Options{{}, state_dir_}).plan(del_request(*record));
}

Planned Topologies::destroy(const std::string& name) {
  Planned planned = plan_destroy(name);
  Attachments(Options{{}, state_dir_}).del(del_request(planned.record));
  return planned;
}

std::vector<AttachmentStatus> Topologies::show(bool verify_objects) const {
  std::vector<AttachmentStatus> out;
  for (JournalRecord& r : Journal(state_dir_).all()) out.push_back({std::move(r), {}});
  std::sort(out.begin(), out.end(),
            [](const AttachmentStatus& a, const AttachmentStatus& b) { return a.record.attachment.id() < b.record.attachment.id(); });
  if (verify_objects) {
    for (AttachmentStatus& s : out) s.objects = verify(s.record);
  }
  return out;
}

}  // namespace topo
