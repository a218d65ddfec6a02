#include "cni/host_local/host_local.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "cni/cni.h"
#include "cni/host_local/range_set.h"
#include "cni/host_local/store.h"

namespace topo::cni::host_local {

using nlohmann::json;

namespace {

struct Config {
  std::string network;
  std::string data_dir;
  std::string resolv_conf;
  json routes = json::array();
  std::vector<RangeSet> range_sets;
  std::vector<IpAddress> requested;  // addresses asked for by CNI_ARGS, args.cni.ips or runtimeConfig.ips
};

std::string optional_string(const json& ipam, const char* key) {
  auto it = ipam.find(key);
  if (it == ipam.end() || it->is_null()) return "";
  if (!it->is_string()) bad_config(fmt::format("ipam.{}", key), fmt::format("expected a string, found {}", it->dump()));
  return it->get<std::string>();
}

// An address as pkg/ip's IP reads it: "10.1.0.5" or "10.1.0.5/24" (the length is ignored).
std::optional<IpAddress> requested_address(const std::string& text) {
  auto p = IpPrefix::parse(text);
  if (!p) return std::nullopt;
  return canonical(p->addr);
}

// host-local keeps requested addresses in a set: one asked for twice is one request.
void request(Config& c, const IpAddress& a) {
  if (std::find(c.requested.begin(), c.requested.end(), a) == c.requested.end()) c.requested.push_back(a);
}

void add_requested(const json& list, const std::string& path, Config& c) {
  if (list.is_null()) return;
  if (!list.is_array()) bad_config(path, "expected a list of IP addresses");
  for (size_t i = 0; i < list.size(); ++i) {
    auto a = list[i].is_string() ? requested_address(list[i].get<std::string>()) : std::nullopt;
    if (!a) bad_config(fmt::format("{}[{}]", path, i), fmt::format("expected an IP address, found {}", list[i].dump()));
    request(c, *a);
  }
}

// CNI_ARGS as host-local reads it (CNI's types.LoadArgs into {IgnoreUnknown, IP}): "K=V;K=V"; IP= asks for an
// address; any other key is an error unless IgnoreUnknown is set (runtimes set it).
void read_cni_args(const std::string& args, Config& c) {
  if (args.empty()) return;
  std::optional<IpAddress> ip;
  bool ignore_unknown = false;
  std::vector<std::string> unknown;
  std::stringstream ss(args);
  for (std::string pair; std::getline(ss, pair, ';');) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || pair.find('=', eq + 1) != std::string::npos)
      throw Error(kInvalidEnvironment, fmt::format("CNI_ARGS: invalid pair '{}'", pair));
    std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (key == "IP") {
      ip = requested_address(value);
      if (!ip) throw Error(kInvalidEnvironment, fmt::format("CNI_ARGS: IP='{}' is not an IP address", value));
    } else if (key == "IgnoreUnknown") {
      std::string v = value;
      std::transform(v.begin(), v.end(), v.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (v == "1" || v == "true") ignore_unknown = true;
      else if (v == "0" || v == "false") ignore_unknown = false;
      else throw Error(kInvalidEnvironment, fmt::format("CNI_ARGS: IgnoreUnknown='{}' is not a boolean", value));
    } else {
      unknown.push_back(pair);
    }
  }
  if (!unknown.empty() && !ignore_unknown) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : " ") + u;
    throw Error(kInvalidEnvironment, fmt::format("CNI_ARGS: unknown args {} (set IgnoreUnknown=1 to allow them)", list));
  }
  if (ip) request(c, *ip);
}

json read_routes(const json& ipam) {
  json out = json::array();
  auto it = ipam.find("routes");
  if (it == ipam.end() || it->is_null()) return out;
  if (!it->is_array()) bad_config("ipam.routes", "expected a list of {\"dst\": ..., \"gw\": ...}");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& r = (*it)[i];
    std::string path = fmt::format("ipam.routes[{}]", i);
    if (!r.is_object()) bad_config(path, "expected {\"dst\": ..., \"gw\": ...}");
    auto dst = r.find("dst");
    auto prefix = dst != r.end() && dst->is_string() && dst->get<std::string>().find('/') != std::string::npos
                      ? IpPrefix::parse(dst->get<std::string>())
                      : std::nullopt;
    if (!prefix) bad_config(path + ".dst", "expected a CIDR (\"0.0.0.0/0\")");
    json route = {{"dst", IpPrefix{canonical(prefix->addr), prefix->len}.str()}};
    if (auto gw = r.find("gw"); gw != r.end() && !gw->is_null() && !(gw->is_string() && gw->get<std::string>().empty())) {
      auto a = gw->is_string() ? IpAddress::parse(gw->get<std::string>()) : std::nullopt;
      if (!a) bad_config(path + ".gw", fmt::format("expected an IP address, found {}", gw->dump()));
      route["gw"] = canonical(*a).str();
    }
    out.push_back(std::move(route));
  }
  return out;
}

// host-local's LoadIPAMConfig: a range set per `ipam.ranges` entry, after the old single range of `ipam`
// itself and, first of all, the runtime's `ipRanges`; none overlapping another.
Config load(const json& config, const std::string& cni_args) {
  const json& ipam = config.at("ipam");
  Config c;
  c.network = config.at("name").get<std::string>();
  c.data_dir = optional_string(ipam, "dataDir");
  c.resolv_conf = optional_string(ipam, "resolvConf");
  c.routes = read_routes(ipam);
  read_cni_args(cni_args, c);
  if (auto args = config.find("args"); args != config.end() && args->is_object()) {
    if (auto cni = args->find("cni"); cni != args->end() && cni->is_object() && cni->contains("ips"))
      add_requested(cni->at("ips"), "args.cni.ips", c);
  }
  const json* runtime = config.contains("runtimeConfig") && config["runtimeConfig"].is_object() ? &config["runtimeConfig"] : nullptr;
  if (runtime && runtime->contains("ips")) add_requested(runtime->at("ips"), "runtimeConfig.ips", c);

  std::vector<std::string> paths;
  if (runtime && runtime->contains("ipRanges") && !runtime->at("ipRanges").is_null()) {
    const json& list = runtime->at("ipRanges");
    if (!list.is_array()) bad_config("runtimeConfig.ipRanges", "expected a list of range sets");
    for (size_t i = 0; i < list.size(); ++i) {
      paths.push_back(fmt::format("runtimeConfig.ipRanges[{}]", i));
      c.range_sets.push_back(parse_range_set(list[i], paths.back()));
    }
  }
  if (auto subnet = ipam.find("subnet"); subnet != ipam.end() && !subnet->is_null()) {
    paths.push_back("ipam");
    c.range_sets.push_back({parse_range(ipam, "ipam")});
  }
  if (auto ranges = ipam.find("ranges"); ranges != ipam.end() && !ranges->is_null()) {
    if (!ranges->is_array()) bad_config("ipam.ranges", "expected a list of range sets");
    for (size_t i = 0; i < ranges->size(); ++i) {
      paths.push_back(fmt::format("ipam.ranges[{}]", i));
      c.range_sets.push_back(parse_range_set((*ranges)[i], paths.back()));
    }
  }
  if (c.range_sets.empty()) bad_config("ipam.ranges", "no IP ranges specified (give ranges, or a subnet)");
  for (size_t a = 0; a < c.range_sets.size(); ++a)
    for (size_t b = a + 1; b < c.range_sets.size(); ++b)
      if (overlaps(c.range_sets[a], c.range_sets[b]))
        bad_config(paths[b], fmt::format("range set {} overlaps with {} ({})", b, a, paths[a]));
  return c;
}

// host-local's resolv.conf reader: nameserver, domain, search and options lines.
json read_resolv_conf(const std::string& path) {
  std::ifstream in(path);
  if (!in) bad_config("ipam.resolvConf", fmt::format("cannot read {}", path));
  json dns = json::object();
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.size() < 2 || w[0][0] == '#' || w[0][0] == ';') continue;
    if (w[0] == "nameserver") dns["nameservers"].push_back(w[1]);
    else if (w[0] == "domain") dns["domain"] = w[1];
    else if (w[0] == "search" || w[0] == "options")
      for (size_t i = 1; i < w.size(); ++i) dns[w[0]].push_back(w[i]);
  }
  return dns;
}

// host-local's round robin over one range set: from the address after the set's last reserved one (when it
// is still in the set), else from the first range's start; every address once, the gateways skipped.
class Candidates {
 public:
  Candidates(const RangeSet& set, std::optional<IpAddress> last_reserved) : set_(set) {
    if (last_reserved) {
      for (size_t i = 0; i < set.size(); ++i) {
        if (set[i].contains(*last_reserved)) {
          range_ = i;
          cur_ = canonical(*last_reserved);  // the first next() moves past it
          return;
        }
      }
    }
    start_ = set_[0].start;
  }

  // The next candidate and its range, or nullptr once every address was offered.
  const Range* next(IpAddress& out) {
    for (;;) {
      const Range* r = &set_[range_];
      if (!cur_) {
        cur_ = r->start;
        start_ = cur_;
      } else {
        if (*cur_ == r->end) {
          range_ = (range_ + 1) % set_.size();
          r = &set_[range_];
          cur_ = r->start;
        } else {
          cur_ = next_address(*cur_);
        }
        if (!start_) start_ = cur_;
        else if (*cur_ == *start_) return nullptr;
      }
      if (*cur_ == r->gateway) continue;
      out = *cur_;
      return r;
    }
  }

 private:
  const RangeSet& set_;
  size_t range_{0};
  std::optional<IpAddress> cur_, start_;
};

[[noreturn]] void failed_range(size_t index, const Error& e) {
  throw Error(e.code, fmt::format("failed to allocate for range {}: {}", index, e.msg), e.details);
}

}  // namespace

json add(const json& config, const Caller& caller) {
  Config c = load(config, caller.args);
  // host-local always answers a dns object, empty without resolvConf.
  json result = {{"cniVersion", config.at("cniVersion")}, {"ips", json::array()}, {"dns", json::object()}};
  if (!c.resolv_conf.empty()) result["dns"] = read_resolv_conf(c.resolv_conf);
  Store store(c.data_dir, c.network);  // locked from here to the end: one ADD's claims are one step
  size_t claimed = 0;
  auto release_claimed = [&] {
    for (size_t i = 0; i < claimed; ++i) store.release(caller.container_id, caller.ifname);
  };
  std::vector<IpAddress> requested = c.requested;
  // What the attachment already held before this ADD, read once: host-local walks the directory again for
  // every range set, but under this ADD's one lock only its own claims can change it, and those are in the
  // sets before (which overlap no other).
  const std::vector<IpAddress> held_before = store.held_by(caller.container_id, caller.ifname);
  for (size_t index = 0; index < c.range_sets.size(); ++index) {
    const RangeSet& set = c.range_sets[index];
    try {
      auto asked = std::find_if(requested.begin(), requested.end(), [&](const IpAddress& a) { return range_for(set, a); });
      IpAddress address;
      const Range* range = nullptr;
      if (asked != requested.end()) {
        address = *asked;
        requested.erase(asked);
        range = range_for(set, address);
        if (address == range->gateway)
          throw Error(kGeneric, fmt::format("requested ip {} is subnet's gateway", address.str()));
        if (!store.reserve(caller.container_id, caller.ifname, address, index))
          throw Error(kGeneric, fmt::format("requested IP address {} is not available in range set {}", address.str(),
                                            range_set_text(set)));
      } else {
        // SPEC: an attachment gets one address per range set; a second ADD of it is refused, not given two.
        for (const IpAddress& held : held_before)
          if (range_for(set, held))
            throw Error(kGeneric, fmt::format("{} has been allocated to {}, duplicate allocation is not allowed",
                                              held.str(), caller.container_id));
        Candidates candidates(set, store.last_reserved(index));
        while ((range = candidates.next(address)) && !store.reserve(caller.container_id, caller.ifname, address, index)) {
        }
        if (!range)
          throw Error(kGeneric, fmt::format("no IP addresses available in range set: {}", range_set_text(set)));
      }
      result["ips"].push_back({{"address", IpPrefix{address, range->subnet.len}.str()}, {"gateway", range->gateway.str()}});
      ++claimed;
    } catch (const Error& e) {
      release_claimed();
      failed_range(index, e);
    }
  }
  if (!requested.empty()) {
    release_claimed();
    std::string list;
    for (const auto& a : requested) list += " " + a.str();
    throw Error(kGeneric, "failed to allocate all requested IPs:" + list);
  }
  if (!c.routes.empty()) result["routes"] = c.routes;
  return normalize_prev_result(result, "host-local result");
}

void check(const json& config, const Caller& caller) {
  Config c = load(config, caller.args);
  Store store(c.data_dir, c.network);
  if (store.held_by(caller.container_id, caller.ifname).empty())
    throw Error(kGeneric, fmt::format("host-local: Failed to find address added by container {}", caller.container_id));
}

void del(const json& config, const Caller& caller) {
  Config c = load(config, caller.args);
  Store store(c.data_dir, c.network);
  // As host-local: once per range set (each pass falls back to an old release's files when it finds none).
  for (size_t i = 0; i < c.range_sets.size(); ++i) store.release(caller.container_id, caller.ifname);
}

void gc(const json& config, const std::set<std::pair<std::string, std::string>>& valid) {
  Config c = load(config, "");
  Store store(c.data_dir, c.network);
  std::set<std::string> valid_containers;
  for (const auto& [id, ifname] : valid) valid_containers.insert(old_allocation_text(id));
  for (const auto& [name, text] : store.allocations()) {
    auto cut = text.find("\r\n");
    bool keep = cut == std::string::npos ? valid_containers.count(text) > 0
                                         : valid.count({text.substr(0, cut), text.substr(cut + 2)}) > 0;
    if (!keep) store.remove(name);
  }
}

void check_config(const json& config, const std::string& cni_args) { (void)load(config, cni_args); }

void status(const json& config) {
  Config c = load(config, "");
  try {
    Store store(c.data_dir, c.network);
  } catch (const Error& e) {
    throw Error(50, "host-local is not available: " + e.msg, e.details);
  }
}

}  // namespace topo::cni::host_local
