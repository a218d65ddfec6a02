// Sysctls are per network namespace: read and write inside the scope's namespace, never the machine's.
#include <doctest/doctest.h>

#include "netns_fixture.h"
#include "kinds/sysctl/sysctl_io.h"
#include "topo/error.h"

using namespace topo;
using namespace topo::test;

TEST_CASE("sysctl: dotted names map to /proc/sys paths, interface names may contain dots") {
  CHECK(sysctl::path_of("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward");
  CHECK(sysctl::path_of("net.ipv4.conf.eth0.100.rp_filter") == "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
  CHECK(sysctl::path_of("net.ipv6.conf.all.forwarding") == "/proc/sys/net/ipv6/conf/all/forwarding");
  CHECK(sysctl::path_of("net.ipv4.neigh.a.b.proxy_delay") == "/proc/sys/net/ipv4/neigh/a.b/proxy_delay");
  CHECK(sysctl::path_of("net/ipv4/conf/x.y/forwarding") == "/proc/sys/net/ipv4/conf/x.y/forwarding");
  CHECK_THROWS_AS(sysctl::path_of("net.ipv4.conf...rp_filter"), Error);
  CHECK_THROWS_AS(sysctl::path_of("net/../../etc/passwd"), Error);
}

TEST_CASE("kernel: sysctls in a namespace") {
  TOPO_REQUIRE_LINK_KIND("veth");
  TwoScopes ns;
  ns.container_ns.ip("link add v.1 type veth peer name v2");
  Kernel k(ns.scopes());
  std::string machine_forwarding = *sysctl::Files().read("net.ipv4.conf.lo.forwarding");

  Sysctl fwd{"container", "net.ipv4.conf.v.1.forwarding", "1", std::nullopt};
  Sysctl rp{"container", "net.ipv4.conf.v.1.rp_filter", "2", std::nullopt};
  Sysctl lo{"container", "net.ipv4.conf.lo.forwarding", machine_forwarding == "1" ? "0" : "1", std::nullopt};
  Sysctl missing{"container", "net.ipv4.conf.nosuch0.forwarding", "1", std::nullopt};
  State interest;
  interest.of<Sysctl>() = {fwd, rp, lo, missing};

  State before = k.observe(interest);
  REQUIRE(before.of<Sysctl>().size() == 3);  // no file for a missing interface: not observed
  std::map<std::string, std::string> old;
  for (const Sysctl& s : before.of<Sysctl>()) old[s.name] = s.value;
  CHECK(old.at(fwd.name) == "0");

  run(k, {create(fwd), create(rp), create(lo)});
  State got = k.observe(interest);
  REQUIRE(got.of<Sysctl>().size() == 3);
  for (const Sysctl& s : got.of<Sysctl>()) CHECK((s == fwd || s == rp || s == lo));
  CHECK(ns.container_ns.exec("cat /proc/sys/net/ipv4/conf/v.1/rp_filter") == "2\n");
  // The machine's own namespace is untouched.
  CHECK(*sysctl::Files().read("net.ipv4.conf.lo.forwarding") == machine_forwarding);

  // Delete writes the value from before.
  Sysctl undo = rp;
  undo.previous = old.at(rp.name);
  run(k, {remove(undo)});
  CHECK(ns.container_ns.exec("cat /proc/sys/net/ipv4/conf/v.1/rp_filter") == old.at(rp.name) + "\n");

  // A value the kernel refuses is a SystemError with its errno.
  Sysctl bad{"container", "net.ipv4.conf.v.1.rp_filter", "banana", std::nullopt};
  Progress done;
  CHECK_THROWS_AS(k.execute({create(bad)}, done), SystemError);
  CHECK(done.effected().empty());
}
