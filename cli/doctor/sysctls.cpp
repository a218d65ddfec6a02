// Forwarding and reverse-path filtering: the sysctls a routed pod path needs on the node and that a per-pod
// template does not (or cannot durably) set. docs/templates.md#ipv4-forwarding says why each matters.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "doctor.h"
#include "topo/kernel.h"
#include "topo/model/scope.h"
#include "topo/node_scan.h"

namespace topo::cli::doctor {

namespace {

int as_int(const std::optional<std::string>& v) {
  try {
    return v ? std::stoi(*v) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

void check_forwarding(const Node& node, const std::set<std::string>& present, std::vector<Finding>& out) {
  if (node.underlay.empty()) {
    out.push_back({"ipv4-forwarding", Status::Ok, "", "the underlay interface's net.ipv4.conf.<if>.forwarding",
                   fmt::format("no underlay interface to check: no topocni entry in {} names a hostInterface, and "
                               "no --interface was given",
                               node.options.cni_conf_dir),
                   ""});
    return;
  }
  Kernel kernel(ScopeMap{{kHostScope, ""}});
  std::vector<std::string> dual;  // underlay interfaces with a global IPv6 address
  for (const auto& [ifname, why] : node.underlay) {
    std::string sysctl = fmt::format("net.ipv4.conf.{}.forwarding", ifname);
    if (!present.contains(ifname)) {
      out.push_back({"ipv4-forwarding", Status::Problem, ifname, fmt::format("interface {} ({})", ifname, why),
                     fmt::format("{} does not exist in this network namespace: the template's host facts (its "
                                 "addresses) cannot be read and ADD fails",
                                 ifname),
                     fmt::format("ip link show   # then correct {}", why)});
      continue;
    }
    auto value = read_sysctl("net/ipv4/conf", ifname, "forwarding");
    if (as_int(value) == 1) {
      out.push_back({"ipv4-forwarding", Status::Ok, ifname, fmt::format("{} ({})", sysctl, why), "1", ""});
    } else {
      out.push_back({"ipv4-forwarding", Status::Problem, ifname, fmt::format("{} ({})", sysctl, why),
                     fmt::format("{}: the kernel forwards a packet only if its input interface forwards, so replies "
                                 "arriving on {} for pods behind the node's veths are dropped silently",
                                 value.value_or("absent"), ifname),
                     fmt::format("sysctl -w {}=1   # and persist it in /etc/sysctl.d/", sysctl)});
    }
    for (const auto& a : kernel.addresses_of(kHostScope, ifname)) {
      if (a.family() == Family::V6) {
        dual.push_back(fmt::format("{} has {}", ifname, a.str()));
        break;
      }
    }
  }
  const char* v6 = "net.ipv6.conf.all.forwarding";
  if (dual.empty()) {
    out.push_back(
        {"ipv6-forwarding", Status::Ok, "", v6, "not needed: no underlay interface has a global IPv6 address", ""});
    return;
  }
  auto value = read_sysctl(v6);
  std::string why = fmt::format("dual-stack node ({})", fmt::join(dual, ", "));
  if (as_int(value) == 1) {
    out.push_back({"ipv6-forwarding", Status::Ok, "", fmt::format("{} ({})", v6, why), "1", ""});
  } else {
    out.push_back({"ipv6-forwarding", Status::Problem, "", fmt::format("{} ({})", v6, why),
                   fmt::format("{}: IPv6 forwards only with conf.all.forwarding=1 (per-interface forwarding is not "
                               "enough), so the pods' IPv6 traffic through the node is dropped",
                               value.value_or("absent")),
                   fmt::format("sysctl -w {}=1   # and persist it in /etc/sysctl.d/", v6)});
  }
}

// The input interface of the asymmetric half of a routed pod path is topocni's host-side veth: replies from
// underlay backends come back through it while main routes their source via the uplink. Templates set
// rp_filter=2 on it; a sysctl daemon re-applying `net.ipv4.conf.*.rp_filter=1` to new interfaces undoes that.
void check_rp_filter(const std::vector<scan::LinkEntry>& links, std::vector<Finding>& out) {
  int all = as_int(read_sysctl("net.ipv4.conf.all.rp_filter"));
  bool any = false;
  for (const auto& l : links) {
    if (!is_owner_text(l.alias)) continue;
    any = true;
    int own = as_int(read_sysctl("net/ipv4/conf", l.name, "rp_filter"));
    int effective = std::max(all, own);  // the kernel uses max(all, interface): IN_DEV_RPFILTER
    std::string checked =
        fmt::format("net.ipv4.conf.{{all,{}}}.rp_filter of topocni's link {} ({})", l.name, l.name, l.alias);
    std::string found = fmt::format("all={}, {}={}: effective {}", all, l.name, own, effective);
    if (effective == 1) {
      out.push_back({"rp-filter", Status::Problem, l.name, checked,
                     found + " (strict): replies that come back through the veth while the main table routes their "
                             "source elsewhere are dropped (TcpExtIPReversePathFilter in nstat)",
                     fmt::format("sysctl -w net.ipv4.conf.{}.rp_filter=2   # and find what reset it (a sysctl.d "
                                 "glob such as net.ipv4.conf.*.rp_filter=1)",
                                 l.name)});
    } else {
      out.push_back({"rp-filter", Status::Ok, l.name, checked, found, ""});
    }
  }
  if (!any) {
    out.push_back({"rp-filter", Status::Ok, "", "net.ipv4.conf.<veth>.rp_filter of topocni's links",
                   "no link carries a topocni alias in this network namespace", ""});
  }
}

}  // namespace

void check_sysctls(const Node& node, std::vector<Finding>& out) {
  auto links = scan::links();
  std::set<std::string> present;
  for (const auto& l : links) present.insert(l.name);
  check_forwarding(node, present, out);
  check_rp_filter(links, out);
}

}  // namespace topo::cli::doctor
