// Throwaway network namespaces for kernel tests: never the machine's own namespace. Each Netns is created
// with a unique name (`ip netns add topo-test-<pid>-<n>`) and deleted in its destructor, which also runs when
// a REQUIRE fails (doctest unwinds by exception). Tests may use `ip` to set up and inspect fixtures; the
// engine never does.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "topo/kernel.h"

namespace topo::test {

// Runs `cmd` with /bin/sh and returns its stdout; `status` gets the exit status.
inline std::string sh(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// Runs a fixture command that must succeed; returns its stdout. Its stderr goes into the error when it fails
// and is dropped when it succeeds: a snapshot is what a tool prints, not its remarks. `ip` naming a veth
// peer's namespace (link-netns) asks about every namespace in /run/netns, and one a parallel test is
// deleting answers "Peer netns reference is invalid." there, on stderr, about another test's namespace.
inline std::string must(const std::string& cmd) {
  char err_path[] = "/tmp/topo-test-stderr-XXXXXX";
  int fd = ::mkstemp(err_path);
  if (fd < 0) throw std::runtime_error("mkstemp failed for: " + cmd);
  ::close(fd);
  int status = 0;
  std::string out = sh("{ " + cmd + "\n} 2>" + err_path, &status);
  std::string err = sh(std::string("cat ") + err_path);
  ::unlink(err_path);
  if (status != 0) throw std::runtime_error("fixture command failed: " + cmd + ": " + out + err);
  return out;
}

// Number of non-empty lines.
inline size_t lines(const std::string& text) {
  size_t n = 0;
  bool content = false;
  for (char c : text) {
    if (c == '\n') {
      n += content;
      content = false;
    } else {
      content = true;
    }
  }
  return n + content;
}

class Netns {
 public:
  Netns() {
    static int counter = 0;
    name_ = "topo-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    must("ip netns add " + name_);
    // Before any link exists, so every interface inherits it: an IPv6 address still tentative when a test
    // takes its "before" snapshot would differ from the same address in the "after" one (a loaded machine
    // makes that likely), though nothing of ours touched it.
    must("ip netns exec " + name_ + " sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    must("ip -n " + name_ + " link set lo up");
  }
  ~Netns() {
    int status = 0;
    sh("ip netns del " + name_ + " 2>&1", &status);
    if (status != 0) std::fprintf(stderr, "warning: could not delete netns %s\n", name_.c_str());
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  // `ip -n <name> <args>`, which must succeed.
  std::string ip(const std::string& args) const { return must("ip -n " + name_ + " " + args); }
  // `ip -n <name> -d link show <args>`: the links as a snapshot compares them.
  std::string links(const std::string& args = "") const { return ip("-d link show " + args); }
  // Runs a command inside the namespace.
  std::string exec(const std::string& cmd) const { return must("ip netns exec " + name_ + " " + cmd); }

 private:
  std::string name_;
};

// Two namespaces mapped as scopes "host" and "container" (the plugin's two), and a Kernel over them.
struct TwoScopes {
  Netns host_ns, container_ns;
  ScopeMap scopes() const { return {{"host", host_ns.path()}, {"container", container_ns.path()}}; }
};

// Whether this kernel can create links of `kind` (probed once per kind in a namespace of its own).
inline bool link_kind_supported(const std::string& kind) {
  static std::map<std::string, bool> known;
  auto it = known.find(kind);
  if (it != known.end()) return it->second;
  Netns probe;
  int status = 0;
  // Children need a parent device, and some kinds a mandatory attribute: a missing one is not a missing kind.
  sh("ip -n " + probe.name() + " link add probep type veth peer name probeq 2>&1", &status);
  bool child = kind == "macvlan" || kind == "macvtap" || kind == "ipvlan" || kind == "vlan";
  std::string extra = kind == "veth"    ? " peer name probe1"
                      : kind == "vxlan" ? " id 42 dstport 4789"
                      : kind == "vlan"  ? " id 1"
                      : kind == "vrf"   ? " table 1"
                                        : "";
  sh("ip -n " + probe.name() + " link add " + (child ? "link probep " : "") + "probe0 type " + kind + extra + " 2>&1", &status);
  return known[kind] = status == 0;
}

// Skips the rest of a test case (with the reason in the output) when a link kind is missing.
#define TOPO_REQUIRE_LINK_KIND(kind)                                          \
  do {                                                                        \
    if (!::topo::test::link_kind_supported(kind)) {                           \
      MESSAGE("skipped: this kernel cannot create links of type " << (kind)); \
      return;                                                                 \
    }                                                                         \
  } while (0)

inline Change create(Object o) { return Change{Action::Create, std::move(o), std::nullopt}; }
inline Change remove(Object o) { return Change{Action::Delete, std::move(o), std::nullopt}; }
inline Change replace(Object now, Object before) {
  return Change{Action::Replace, std::move(now), std::move(before)};
}

// Executes changes that must all succeed.
inline void run(Kernel& k, std::vector<Change> changes) {
  Progress done;
  k.execute(changes, done);
  REQUIRE(done.effected().size() == changes.size());
}

inline IpPrefix pfx(const char* text) {
  auto p = IpPrefix::parse(text);
  if (!p) throw std::runtime_error(std::string("bad prefix in test: ") + text);
  return *p;
}
inline IpAddress addr(const char* text) { return pfx(text).addr; }

}  // namespace topo::test
