// `topoctl show`: what topocni owns on this node, per attachment (CNI attachments and topologies), from the
// journals, then the node-wide shared objects with their users; with --verify, each object checked against
// the kernel; with --shared, only the shared objects.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "table.h"
#include "topo/journal.h"
#include "topo/model/json.h"
#include "topo/shared_objects.h"
#include "topo/state_dir.h"
#include "topo/topology_run.h"

namespace topo::cli {

namespace {

using nlohmann::json;

struct ShowArgs {
  bool verify = false, json_output = false, no_color = false, shared_only = false;
};

// The shared objects and who uses them (topo/shared_objects.h).
std::string shared_table(const std::vector<SharedEntry>& entries) {
  std::vector<std::vector<std::string>> rows = {{"SHARED OBJECT", "USERS"}};
  for (const SharedEntry& e : entries) rows.push_back({describe(e.object), fmt::format("{}", fmt::join(e.users, " "))});
  return format_table(rows);
}

json shared_json(const std::vector<SharedEntry>& entries) {
  json out = json::array();
  for (const SharedEntry& e : entries)
    out.push_back({{"kind", std::string(kind_name(e.object))}, {"description", describe(e.object)}, {"users", e.users}});
  return out;
}

std::string counts(const State& s) {
  std::vector<std::string> parts;
  auto add = [&](size_t n, const char* one, const char* many) {
    if (n) parts.push_back(fmt::format("{} {}", n, n == 1 ? one : many));
  };
  AllKinds::each([&]<class K>() { add(s.of<K>().size(), K::kName.data(), K::kSection.data()); });
  return parts.empty() ? "nothing" : fmt::format("{}", fmt::join(parts, ", "));
}

json counts_json(const State& s) {
  json out = json::object();
  AllKinds::each([&]<class K>() { out[std::string(K::kSection)] = s.of<K>().size(); });
  return out;
}

std::string paint_status(const std::string& status, bool color) {
  if (status == "ok") return green(status, color);
  if (status == "namespace gone") return dim(status, color);
  if (status == "differs") return yellow(status, color);
  return red(status, color);
}

}  // namespace

Command add_show(CLI::App& app) {
  auto args = std::make_shared<ShowArgs>();
  auto* cmd = app.add_subcommand("show", "List what topocni owns on this node, per attachment (from the journals)");
  cmd->add_flag("--verify", args->verify, "check every object against the kernel; exit 2 if any is not as journaled");
  cmd->add_flag("--json", args->json_output, "print the list as JSON");
  cmd->add_flag("--no-color", args->no_color, "never color the output");
  cmd->add_flag("--shared", args->shared_only, "list only the node-wide shared objects and their users");
  return {cmd, [args] {
            std::vector<SharedEntry> shared;
            bool registry_damaged = false;
            try {
              shared = SharedObjects(Journal().dir()).load();
            } catch (const StateDirError& e) {
              // The attachments are still worth listing; the registry's problem is said, not hidden.
              std::cerr << "topoctl: " << e.what() << "\n";
              registry_damaged = true;
            }
            if (args->shared_only) {
              if (registry_damaged) return 1;
              if (args->json_output)
                std::cout << shared_json(shared).dump(2) << std::endl;
              else if (shared.empty())
                std::cout << "no shared objects on this node.\n";
              else
                std::cout << shared_table(shared);
              return 0;
            }
            auto all = Topologies().show(args->verify);
            bool all_ok = true;
            for (const auto& a : all)
              for (const auto& o : a.objects) all_ok = all_ok && o.status == "ok";
            if (args->json_output) {
              json out = json::array();
              for (const auto& a : all) {
                const JournalRecord& r = a.record;
                json j = {{"network", r.attachment.network}, {"containerId", r.attachment.container_id},
                          {"ifname", r.attachment.ifname},   {"template", r.template_name},
                          {"netns", r.netns},                {"allocations", r.allocations},
                          {"objects", counts_json(r.state)}};
                if (args->verify) {
                  j["verify"] = json::array();
                  for (const auto& o : a.objects) {
                    j["verify"].push_back({{"namespace", o.scope}, {"kind", o.kind}, {"description", o.description},
                                           {"status", o.status}});
                  }
                }
                out.push_back(j);
              }
              std::cout << out.dump(2) << std::endl;
            } else if (all.empty()) {
              std::cout << "topocni owns nothing on this node (no journals).\n";
              if (!shared.empty()) std::cout << "\n" << shared_table(shared);
            } else {
              bool color = use_color(args->no_color);
              std::vector<std::vector<std::string>> rows = {{"NETWORK", "CONTAINER ID", "IFNAME", "TEMPLATE", "NETNS", "OBJECTS"}};
              for (const auto& a : all) {
                const JournalRecord& r = a.record;
                rows.push_back({r.attachment.network, r.attachment.container_id, r.attachment.ifname, r.template_name,
                                r.netns.empty() ? "-" : r.netns, counts(r.state)});
              }
              if (!args->verify) {
                std::cout << format_table(rows);
              } else {
                // One block per attachment: its row, then each object with its status.
                std::string header = format_table(rows);
                std::vector<std::string> lines;
                for (size_t pos = 0, next; (next = header.find('\n', pos)) != std::string::npos; pos = next + 1) {
                  lines.push_back(header.substr(pos, next - pos));
                }
                std::cout << lines[0] << "\n";
                for (size_t i = 0; i < all.size(); ++i) {
                  std::cout << lines[i + 1] << "\n";
                  for (const auto& o : all[i].objects) {
                    std::string status = fmt::format("{:<15}", o.status);
                    std::cout << "    " << paint_status(status, color) << o.scope << ": " << o.description << "\n";
                  }
                }
              }
            }
            if (!args->json_output && !all.empty() && !shared.empty()) std::cout << "\n" << shared_table(shared);
            return args->verify && !all_ok ? 2 : 0;
          }};
}

}  // namespace topo::cli
