// Netfilter on the node: rules that drop conntrack-INVALID packets on the forward path, and whether Service
// traffic that topocni bounces back into a pod can find its way back (ipMasq against kube-proxy's masquerade).
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "doctor.h"
#include "topo/attachment.h"
#include "topo/node_scan.h"
#include "topo/template/template.h"

namespace topo::cli::doctor {

namespace {

std::string locate(const scan::NftRuleRef& r) {
  return fmt::format("{} {} {} handle {}", r.family, r.table, r.chain, r.handle);
}

// How to get rid of an INVALID drop rule: kube-proxy's goes away with its own setting (it would put it back),
// iptables-nft's is removed with iptables (its tables say "managed by iptables-nft, do not touch"), any other
// by handle.
std::string invalid_drop_fix(const scan::NftRuleRef& r) {
  const char* alternative = "; or use the underlay-service template, whose path is symmetric";
  if (r.chain.starts_with("KUBE-") || r.table == "kube-proxy") {
    return fmt::format("kube-proxy >= 1.29: set conntrack.tcpBeLiberal: true in its configuration (it then installs "
                       "no INVALID drop rule){}",
                       alternative);
  }
  if (r.how.starts_with("xt ") && (r.family == "ip" || r.family == "ip6")) {
    return fmt::format("{} -t {} -D {} -m conntrack --ctstate INVALID -j DROP   # the rule as `{} -t {} -S {}` "
                       "prints it{}",
                       r.family == "ip" ? "iptables" : "ip6tables", r.table, r.chain,
                       r.family == "ip" ? "iptables" : "ip6tables", r.table, r.chain, alternative);
  }
  return fmt::format("nft delete rule {} {} {} handle {}   # or scope it away from the pods' traffic{}", r.family,
                     r.table, r.chain, r.handle, alternative);
}

// A conntrack-INVALID drop breaks the half of an asymmetric path the node sees: veth-to-host sends a pod's
// traffic for beyond the gateway through the node, and the replies go straight to the pod's macvlan, so the
// node's conntrack never sees the SYN-ACK and calls the pod's next ACK INVALID (tcp_conntracks: SYN_SENT +
// ACK). nf_conntrack_tcp_be_liberal does not change that (it only relaxes window checks; tested in
// throwaway namespaces, see docs/topoctl.md#doctor), so the rule alone decides.
void check_invalid_drops(const scan::NftRuleset& rs, std::vector<Finding>& out) {
  std::map<std::tuple<std::string, std::string, std::string>, std::optional<std::string>> hooks;
  for (const auto& c : rs.chains) hooks[{c.family, c.table, c.name}] = c.hook;
  auto liberal = read_sysctl("net.netfilter.nf_conntrack_tcp_be_liberal");
  std::string liberal_text = fmt::format("net.netfilter.nf_conntrack_tcp_be_liberal={}", liberal.value_or("absent"));
  const char* checked = "nftables rules (every table, iptables-nft's included) that drop ct state invalid packets";
  bool any = false;
  for (const auto& r : rs.invalid_drops) {
    auto hook = hooks[{r.family, r.table, r.chain}];
    // Base chains that only see local traffic (input, output) or other protocols cannot drop a forwarded
    // reply; a regular chain may be jumped to from anywhere, so it counts.
    if (r.family == "arp" || (hook && (*hook == "input" || *hook == "output"))) continue;
    any = true;
    std::string where = hook ? fmt::format("base chain, hook {}", *hook) : "regular chain";
    out.push_back(
        {"conntrack-invalid", Status::Problem, locate(r), checked,
         fmt::format("{} ({}) drops conntrack-INVALID packets ({}); {}. The node sees only the pod->outside half "
                     "of veth-to-host's path beyond the gateway (replies go straight to the pod), so the pod's ACKs "
                     "are INVALID there and its TCP connections to the outside hang. be_liberal=1 does not help.",
                     locate(r), where, r.how, liberal_text),
         invalid_drop_fix(r)});
  }
  if (!any) {
    out.push_back({"conntrack-invalid", Status::Ok, "", checked, "none on the forward path; " + liberal_text, ""});
  }
}

struct KubeProxy {
  std::string mode;                           // "iptables", "nftables", "ipvs" or "" (none seen)
  std::vector<scan::NftRuleRef> masquerades;  // kube-proxy's masquerade rules
  std::string describe() const {
    if (mode.empty()) return "no kube-proxy rules in this namespace";
    std::vector<std::string> m;
    for (const auto& r : masquerades) m.push_back(locate(r));
    return fmt::format("kube-proxy {} mode, masquerade rule {}", mode,
                       m.empty() ? "absent" : fmt::format("{}", fmt::join(m, ", ")));
  }
};

// kube-proxy's modes, by what each leaves in the kernel: iptables (and ipvs) mode a KUBE-SERVICES chain in
// the ip/ip6 nat table, its masquerade in KUBE-POSTROUTING; nftables mode a table `kube-proxy` in ip/ip6, its
// masquerade in that table; ipvs mode also the kube-ipvs0 link holding the Service IPs.
KubeProxy find_kube_proxy(const scan::NftRuleset& rs, bool ipvs_link) {
  KubeProxy kp;
  for (const auto& c : rs.chains) {
    if ((c.family == "ip" || c.family == "ip6") && c.table == "nat" && c.name == "KUBE-SERVICES") kp.mode = "iptables";
  }
  for (const auto& [family, name] : rs.tables) {
    if ((family == "ip" || family == "ip6") && name == "kube-proxy") kp.mode = "nftables";
  }
  if (ipvs_link) kp.mode = "ipvs";
  for (const auto& r : rs.masquerades) {
    if ((r.table == "nat" && r.chain == "KUBE-POSTROUTING") || r.table == "kube-proxy") kp.masquerades.push_back(r);
  }
  return kp;
}

// The template's declared `ipMasq` parameter default; nullopt when it declares none.
std::optional<bool> ipmasq_default(const TemplateLibrary& library, const std::string& name) {
  auto source = library.find(name);
  if (!source) return std::nullopt;
  YAML::Node doc = YAML::Load(source->text);
  YAML::Node p = doc["parameters"]["ipMasq"];
  if (!p) return std::nullopt;
  return p["default"] ? p["default"].as<bool>() : false;
}

// veth-to-host and underlay-service send Service traffic that kube-proxy DNATed to a backend off the node
// back into the pod, which forwards it out of its macvlan. With ipMasq the node snats it to its own address
// and the pod masquerades it to the pod's: the backend sees the pod and answers the pod, whose conntrack
// returns the reply to the node. Without ipMasq such Services do not answer (docs/veth-to-host.md), and a
// masquerade on the node does not make up for it: measured in the e2e lab (veth-to-host, ipMasq false, a
// Service backed by another node's host network) with none and with `ct status dnat masquerade` on the
// node, it timed out both times. Without kube-proxy (no DNAT on the node) nothing is sent back.
void check_masquerade(const Node& node, const KubeProxy& kp, std::vector<Finding>& out) {
  TemplateLibrary library(topo::Options::from_environment().template_dirs);
  bool any = false;
  for (const auto& e : node.entries) {
    auto def = ipmasq_default(library, e.template_name);
    if (!def) continue;
    any = true;
    bool on = *def;
    std::string source = fmt::format("template default {}", on);
    if (e.config.contains("ipMasq")) {
      if (!e.config["ipMasq"].is_boolean()) continue;  // the plugin refuses the config; not ours to judge here
      on = e.config["ipMasq"].get<bool>();
      source = "set in the config";
    }
    std::string checked = fmt::format("ipMasq of {} ({}) against kube-proxy's masquerade", e.where(), e.template_name);
    if (!on && kp.mode.empty()) {
      out.push_back({"kube-proxy-masquerade", Status::Ok, e.where(), checked,
                     fmt::format("ipMasq false ({}); {}, so no Service DNAT here sends traffic back into the pod (if "
                                 "another Service implementation DNATs on this node, set \"ipMasq\": true)",
                                 source, kp.describe()),
                     ""});
      continue;
    }
    if (on) {
      out.push_back({"kube-proxy-masquerade", Status::Ok, e.where(), checked,
                     fmt::format("ipMasq true ({}); {}: backends off the node see the pod's address and answer "
                                 "through it, whatever kube-proxy marks for masquerade",
                                 source, kp.describe()),
                     ""});
      continue;
    }
    std::string effect =
        "Service traffic the node DNATs to a backend off this node is sent back into the pod and out of its "
        "macvlan without the two NATs that bring the reply back the same way: Services whose backend is not on "
        "this node do not answer";
    if (!kp.masquerades.empty()) effect += " (kube-proxy's masquerade does not make up for it)";
    out.push_back({"kube-proxy-masquerade", Status::Problem, e.where(), checked,
                   fmt::format("ipMasq false ({}); {}: {}", source, kp.describe(), effect),
                   fmt::format("set \"ipMasq\": true in {}", e.where())});
  }
  if (!any) {
    out.push_back({"kube-proxy-masquerade", Status::Ok, "",
                   "ipMasq of topocni's entries against kube-proxy's masquerade",
                   fmt::format("no topocni entry in {} uses a template with an ipMasq parameter; {}",
                               node.options.cni_conf_dir, kp.describe()),
                   ""});
  }
}

}  // namespace

void check_netfilter(const Node& node, std::vector<Finding>& out) {
  auto rs = scan::nft_ruleset();
  check_invalid_drops(rs, out);
  bool ipvs_link = false;
  for (const auto& l : scan::links()) ipvs_link = ipvs_link || l.name == "kube-ipvs0";
  check_masquerade(node, find_kube_proxy(rs, ipvs_link), out);
}

}  // namespace topo::cli::doctor
