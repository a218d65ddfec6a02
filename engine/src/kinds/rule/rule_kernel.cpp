// The policy-rule kind's kernel I/O: one family's rules per dump (rules cannot be filtered further), and one
// request per change.
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "kernel/kernel_context.h"
#include "kinds/rule/rule_codec.h"
#include "kinds/rule/rule_ops.h"
#include "topo/error.h"

namespace topo {

namespace {

// What the kernel keeps of a rule's key: a fwmark without a mask gets mask 0xffffffff.
auto kernel_key(const Rule& r) {
  return std::make_tuple(r.scope, r.family, r.priority, r.from, r.to, r.iif, r.oif, r.fwmark,
                         netlink::effective_fwmask(r));
}

void send(KernelContext& k, uint16_t type, uint16_t flags, const Rule& rule, const std::string& op) {
  netlink::Message m(type, flags);
  netlink::encode_rule(m.builder(), rule);
  auto ack = k.socket(rule.scope).ack(m.msg());
  if (!ack.ok()) throw NetlinkError(ack.err, op, describe(rule), ack.ext_ack);
}

}  // namespace

void KindOps<Rule>::observe(KernelContext& k, const std::vector<Rule>& interest, std::vector<Rule>& out) {
  std::set<std::pair<std::string, Family>> queries;
  std::map<decltype(kernel_key(Rule{})), const Rule*> wanted;
  for (const Rule& r : interest) {
    if (!k.has_scope(r.scope)) continue;
    queries.emplace(r.scope, r.family);
    wanted.emplace(kernel_key(r), &r);
  }
  for (const auto& [scope, family] : queries) {
    netlink::Message m(RTM_GETRULE, NLM_F_DUMP);
    netlink::encode_rule_dump(m.builder(), family);
    std::vector<Rule> found;
    auto ack = k.socket(scope).dump(
        m.msg(),
        [&](const nlmsghdr& nlh) {
          auto msg = netlink::decode_rule(nlh);
          if (!msg) return;
          msg->rule.scope = scope;
          auto it = wanted.find(kernel_key(msg->rule));
          if (it == wanted.end()) return;
          msg->rule.fwmask = it->second->fwmask;  // the spelling we were asked in (see kernel_key)
          found.push_back(std::move(msg->rule));
        },
        [&] { found.clear(); });
    if (!ack.ok()) throw NetlinkError(ack.err, "list rules", scope + " " + std::string(family_name(family)), ack.ext_ack);
    out.insert(out.end(), found.begin(), found.end());
  }
}

void KindOps<Rule>::execute(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end,
                            Progress& p) {
  for (size_t i = begin; i < end; ++i) {
    const Change& c = changes[i];
    p.attempt(i, c);
    const Rule& r = std::get<Rule>(c.object);
    switch (c.action) {
      case Action::Create:
        send(k, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r, "create rule");
        break;
      case Action::Delete:
        send(k, RTM_DELRULE, 0, r, "delete rule");
        break;
      case Action::Replace: {
        // Rules have no in-place replace (fib_nl_newrule does not support NLM_F_REPLACE): delete, then add. A
        // failed add puts the old rule back, so a failed Replace has not taken effect at all.
        const Rule& prev = c.previous ? std::get<Rule>(*c.previous) : r;
        send(k, RTM_DELRULE, 0, prev, "replace rule");
        try {
          send(k, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r, "replace rule");
        } catch (...) {
          try {
            send(k, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, prev, "restore rule");
          } catch (const std::exception& e) {
            std::fprintf(stderr, "topocni: could not restore a rule after a failed replace: %s\n", e.what());
          }
          throw;
        }
        break;
      }
    }
    p.took_effect(i);
  }
}

// A rule that is not there answers ENOENT to a delete.
bool KindOps<Rule>::already_gone(const Change& c, int err) {
  return c.action == Action::Delete && (err == ENOENT || err == ENODEV);
}

}  // namespace topo
