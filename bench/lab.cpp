#include "lab.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace bench {

namespace {

std::vector<std::string>& created() {
  static std::vector<std::string> names;
  return names;
}

void on_signal(int sig) {
  // Not async-signal-safe (it spawns `ip`), but the run is over either way and a leftover namespace would
  // outlive it; run.sh's trap is the second line of defence.
  Namespaces::remove_all();
  _exit(128 + sig);
}

}  // namespace

std::string Namespaces::create(const std::string& suffix) {
  std::string name = "tcb" + std::to_string(getpid()) + "-" + suffix;
  must({"ip", "netns", "add", name});
  created().push_back(name);
  must({"ip", "-n", name, "link", "set", "lo", "up"});
  return name;
}

void Namespaces::remove(const std::string& name) {
  auto& names = created();
  std::erase(names, name);
  try {
    must({"ip", "netns", "del", name});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
  }
}

void Namespaces::remove_all() {
  auto names = created();
  for (auto it = names.rbegin(); it != names.rend(); ++it) remove(*it);
}

void Namespaces::install_cleanup() {
  std::atexit(remove_all);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
}

Inside::Inside(const std::string& netns_name) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = open(Namespaces::path(netns_name).c_str(), O_RDONLY | O_CLOEXEC);
  if (original_ < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0)
    throw std::runtime_error("enter netns " + netns_name + ": " + std::strerror(errno));
  close(fd);
}

Inside::~Inside() {
  if (setns(original_, CLONE_NEWNET) != 0) std::abort();  // every later step would run in the wrong place
  close(original_);
}

std::string create_node_namespace(const std::string& suffix) {
  std::string ns = Namespaces::create(suffix);
  must({"ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"});
  must({"ip", "-n", ns, "addr", "add", "10.20.0.2/16", "dev", "eth0"});
  must({"ip", "-n", ns, "link", "set", "eth0", "up"});
  must({"ip", "-n", ns, "link", "set", "eth0p", "up"});
  // A default route as a node has one (kube-proxy's Service traffic and the pod's underlay share it).
  must({"ip", "-n", ns, "route", "add", "default", "via", "10.20.0.1"});
  return ns;
}

Node::Node(const Config& cfg, const std::string& name, Kind kind) : cfg_(cfg), name_(name), kind_(kind) {
  netns_ = create_node_namespace(name);
  dir_ = cfg.work + "/" + name;
  std::filesystem::create_directories(dir_ + "/templates");  // empty: only the built-in templates count

  using nlohmann::json;
  macvlan_conf_ = {{"cniVersion", "1.0.0"},
                   {"name", "benchnet"},
                   {"type", "macvlan"},
                   {"master", "eth0"},
                   {"mode", "bridge"},
                   {"ipam",
                    {{"type", "host-local"},
                     {"subnet", "10.20.0.0/16"},
                     {"rangeStart", "10.20.1.1"},
                     {"gateway", "10.20.0.1"},
                     {"routes", json::array({{{"dst", "0.0.0.0/0"}}})},
                     {"dataDir", dir_ + "/ipam-macvlan"}}}};
  if (kind == Kind::Topocni) {
    main_conf_ = {{"cniVersion", "1.0.0"}, {"name", "benchnet"},       {"type", "veth-to-host"},
                  {"hostInterface", "eth0"}, {"containerInterface", "veth0"}, {"ipMasq", true}};
  } else {
    // The reference: Debian's ptp with host-local, masquerading like our ipMasq.
    main_conf_ = {{"cniVersion", "1.0.0"},
                  {"name", "benchptp"},
                  {"type", "ptp"},
                  {"ipMasq", true},
                  {"ipam",
                   {{"type", "host-local"},
                    {"subnet", "10.30.0.0/16"},
                    {"routes", json::array({{{"dst", "0.0.0.0/0"}}})},
                    {"dataDir", dir_ + "/ipam-ptp"}}}};
  }
}

Node::~Node() { Namespaces::remove(netns_); }

CallResult Node::raw(const std::string& plugin, const std::string& command, const Pod& pod,
                     const nlohmann::json& config, const std::vector<std::string>& extra_env) {
  std::vector<std::string> env = {"CNI_COMMAND=" + command,
                                  "CNI_CONTAINERID=" + pod.id,
                                  "CNI_NETNS=" + Namespaces::path(pod.netns),
                                  "CNI_IFNAME=eth0",
                                  "CNI_PATH=" + cfg_.cni_dir,
                                  "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  Inside in(netns_);
  return bench::call(plugin, {plugin}, env, config.dump());
}

Pod Node::make_pod(int index) {
  Pod pod;
  pod.id = name_ + "-pod" + std::to_string(index);
  pod.netns = Namespaces::create(name_ + "-p" + std::to_string(index));
  if (kind_ == Kind::Topocni) {
    CallResult r = raw(cfg_.cni_dir + "/macvlan", "ADD", pod, macvlan_conf_, {});
    if (r.status != 0) throw std::runtime_error("macvlan ADD failed: " + r.out + r.err);
    pod.prev = nlohmann::json::parse(r.out);
  }
  return pod;
}

CallResult Node::call(const Pod& pod, const std::string& command) {
  if (kind_ == Kind::Ptp) return raw(cfg_.cni_dir + "/ptp", command, pod, main_conf_, {});
  nlohmann::json config = main_conf_;
  config["prevResult"] = pod.prev;  // ADD, CHECK and DEL all get it (CNI 1.0)
  return raw(cfg_.topocni, command, pod, config,
             {"TOPOCNI_STATE_DIR=" + dir_ + "/state", "TOPOCNI_TEMPLATE_PATH=" + dir_ + "/templates"});
}

void Node::drop_pod(const Pod& pod) {
  if (kind_ == Kind::Topocni) {
    CallResult r = raw(cfg_.cni_dir + "/macvlan", "DEL", pod, macvlan_conf_, {});
    if (r.status != 0) std::fprintf(stderr, "bench: macvlan DEL failed: %s%s\n", r.out.c_str(), r.err.c_str());
  }
  Namespaces::remove(pod.netns);
}

}  // namespace bench
