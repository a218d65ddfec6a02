#include "node_load.h"

#include <fstream>

#include <fmt/format.h>

#include "process.h"

namespace bench {

void add_routes(const std::string& netns, const std::string& work_dir, int count) {
  std::string file = work_dir + "/routes.batch";
  {
    std::ofstream out(file);
    for (int i = 0; i < count; ++i) {
      // 172.16.0.0/12 holds 2^20 addresses: one /32 each.
      unsigned a = 0xAC100000u + static_cast<unsigned>(i);
      out << fmt::format("route add {}.{}.{}.{}/32 via 10.20.0.1 dev eth0 proto static\n", a >> 24,
                         (a >> 16) & 255, (a >> 8) & 255, a & 255);
    }
  }
  must({"ip", "-n", netns, "-batch", file});
}

void add_kube_proxy(const std::string& netns, const std::string& work_dir, int services) {
  std::string file = work_dir + "/kube-proxy.nft";
  {
    std::ofstream out(file);
    // nft 1.0.6 wants a statement ended by a newline or ';' before a closing brace.
    out << "table ip kube-proxy {\n"
           "  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }\n"
           "  chain mark-for-masquerade {\n    meta mark set meta mark | 0x4000\n  }\n"
           "  chain masquerading {\n    meta mark & 0x4000 == 0 return\n"
           "    meta mark set meta mark ^ 0x4000\n    masquerade fully-random\n  }\n"
           "  chain services {\n    ip daddr . meta l4proto . th dport vmap @service-ips\n  }\n"
           "  chain nat-prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
           "    jump services\n  }\n"
           "  chain nat-output {\n    type nat hook output priority -100; policy accept;\n    jump services\n  }\n"
           "  chain nat-postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
           "    jump masquerading\n  }\n"
           "}\n";
    for (int s = 0; s < services; ++s) {
      std::string vip = fmt::format("172.30.{}.{}", s / 250, s % 250 + 1);
      std::string svc = fmt::format("service-{:05d}-default/svc{}/tcp/http", s, s);
      std::string ep[2];
      for (int e = 0; e < 2; ++e) {
        std::string backend = fmt::format("10.{}.{}.{}", 100 + e, s / 250, s % 250 + 1);
        ep[e] = fmt::format("endpoint-{:05d}{}-default/svc{}/tcp/http__{}/8080", s, e, s, backend);
        out << fmt::format("add chain ip kube-proxy {}\n", ep[e]);
        out << fmt::format("add rule ip kube-proxy {} ip saddr {} jump mark-for-masquerade\n", ep[e], backend);
        out << fmt::format("add rule ip kube-proxy {} meta l4proto tcp dnat to {}:8080\n", ep[e], backend);
      }
      out << fmt::format("add chain ip kube-proxy {}\n", svc);
      out << fmt::format(
          "add rule ip kube-proxy {} ip daddr {} tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade\n",
          svc, vip);
      out << fmt::format("add rule ip kube-proxy {} numgen random mod 2 vmap {{ 0 : goto {}, 1 : goto {} }}\n", svc,
                         ep[0], ep[1]);
      out << fmt::format("add element ip kube-proxy service-ips {{ {} . tcp . 80 : goto {} }}\n", vip, svc);
    }
  }
  must({"ip", "netns", "exec", netns, "nft", "-f", file});
}

}  // namespace bench
