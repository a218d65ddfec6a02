#include "kernel/nft/listing.h"

#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <endian.h>
#include <libmnl/libmnl.h>

#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "kernel/nft/context.h"
#include "kernel/nft/layout.h"
#include "kernel/nft/nat_table.h"
#include "kernel/nft/ownership.h"
#include "kinds/nat/rule_codec.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

// Requests are a header and one or two names.
using Buffer = std::array<char, 512>;

[[noreturn]] void fail(const Answer& a, const std::string& what) {
  throw SystemError(a.err, a.ext_ack.empty() ? what : what + " (" + a.ext_ack + ")");
}

struct TableInfo {
  uint32_t use{0};  // NFTA_TABLE_USE: how many chains, sets, objects and flowtables it holds
  std::optional<std::string> comment;
};

// NFT_MSG_GETTABLE of our table: nullopt if it does not exist.
std::optional<TableInfo> table_info(Context& ctx) {
  alignas(nlmsghdr) Buffer buf{};
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, NFPROTO_INET, 0, 0);
  nftnl_table* t = nftnl_table_alloc();
  if (!t) throw SystemError(ENOMEM, "nftnl_table_alloc");
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, kTable);
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  TableInfo info;
  Answer a = ctx.get(nlh, [&](const nlmsghdr& reply) {
    nftnl_table* got = nftnl_table_alloc();
    if (!got) throw SystemError(ENOMEM, "nftnl_table_alloc");
    if (nftnl_table_nlmsg_parse(&reply, got) == 0) {
      if (nftnl_table_is_set(got, NFTNL_TABLE_USE)) info.use = nftnl_table_get_u32(got, NFTNL_TABLE_USE);
      if (nftnl_table_is_set(got, NFTNL_TABLE_USERDATA)) {
        uint32_t len = 0;
        const void* data = nftnl_table_get_data(got, NFTNL_TABLE_USERDATA, &len);
        info.comment = comment_of_userdata(data, len);
      }
    }
    nftnl_table_free(got);
  });
  if (a.err == ENOENT) return std::nullopt;
  if (a.err) fail(a, fmt::format("get table inet {}", kTable));
  return info;
}

// How the chain is defined, from NFT_MSG_GETCHAIN's answer.
ChainShape shape_of(const nftnl_chain& c, std::string_view name) {
  ChainShape shape;
  if (nftnl_chain_is_set(&c, NFTNL_CHAIN_USERDATA)) {
    uint32_t len = 0;
    const void* data = nftnl_chain_get_data(&c, NFTNL_CHAIN_USERDATA, &len);
    shape.comment = comment_of_userdata(data, len);
  }
  if (!nftnl_chain_is_set(&c, NFTNL_CHAIN_HOOKNUM)) {
    shape.text = "a regular chain without a hook";
    return shape;
  }
  const char* type = nftnl_chain_is_set(&c, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(&c, NFTNL_CHAIN_TYPE) : "?";
  const uint32_t hook = nftnl_chain_get_u32(&c, NFTNL_CHAIN_HOOKNUM);
  const int32_t prio = nftnl_chain_is_set(&c, NFTNL_CHAIN_PRIO) ? nftnl_chain_get_s32(&c, NFTNL_CHAIN_PRIO) : 0;
  shape.text = fmt::format("type {} hook {} priority {}", type, hook_text(hook), prio);
  const ChainSpec spec = chain_spec(name);
  shape.as_ours = std::string_view(type) == spec.type && hook == spec.hook && prio == spec.priority;
  return shape;
}

// NFT_MSG_GETCHAIN of one chain of ours by name: how it is defined, nullopt if it does not exist.
std::optional<ChainShape> chain_shape(Context& ctx, std::string_view chain) {
  alignas(nlmsghdr) Buffer buf{};
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_INET, 0, 0);
  nftnl_chain* c = nftnl_chain_alloc();
  if (!c) throw SystemError(ENOMEM, "nftnl_chain_alloc");
  nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, kTable);
  nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, std::string(chain).c_str());
  nftnl_chain_nlmsg_build_payload(nlh, c);
  nftnl_chain_free(c);
  std::optional<ChainShape> shape;
  Answer a = ctx.get(nlh, [&](const nlmsghdr& reply) {
    nftnl_chain* got = nftnl_chain_alloc();
    if (!got) throw SystemError(ENOMEM, "nftnl_chain_alloc");
    if (nftnl_chain_nlmsg_parse(&reply, got) == 0) shape = shape_of(*got, chain);
    nftnl_chain_free(got);
  });
  if (a.err == ENOENT) return std::nullopt;
  if (a.err) fail(a, fmt::format("get chain inet {} {}", kTable, chain));
  if (!shape) shape = ChainShape{false, std::nullopt, "a chain that cannot be parsed"};
  return shape;
}

// A rule's chain, handle and owner from its top-level attributes, without libnftnl's full parse (which
// allocates an object per expression).
ListedRule scan_rule(const nlmsghdr& reply) {
  std::array<const nlattr*, NFTA_RULE_MAX + 1> attrs{};
  auto keep = [](const nlattr* attr, void* data) {
    auto* out = static_cast<std::array<const nlattr*, NFTA_RULE_MAX + 1>*>(data);
    const uint16_t type = mnl_attr_get_type(attr);
    if (type <= NFTA_RULE_MAX) (*out)[type] = attr;
    return MNL_CB_OK;
  };
  if (mnl_attr_parse(&reply, sizeof(nfgenmsg), keep, &attrs) < 0)
    throw SystemError(EBADMSG, fmt::format("parse a rule of table inet {}", kTable));
  ListedRule lr;
  if (const nlattr* chain = attrs[NFTA_RULE_CHAIN]; chain && mnl_attr_validate(chain, MNL_TYPE_NUL_STRING) >= 0)
    lr.chain = mnl_attr_get_str(chain);
  if (const nlattr* handle = attrs[NFTA_RULE_HANDLE]; handle && mnl_attr_validate(handle, MNL_TYPE_U64) >= 0)
    lr.handle = be64toh(mnl_attr_get_u64(handle));
  if (const nlattr* udata = attrs[NFTA_RULE_USERDATA])
    lr.owner = owner_of_userdata(mnl_attr_get_payload(udata), mnl_attr_get_payload_len(udata));
  return lr;
}

}  // namespace

bool Listing::table_ours() const {
  if (!exists) return false;
  if (comment) return *comment == kOwnerComment;
  if (others != 0) return false;
  for (const auto& [name, shape] : shapes)
    if (!shape.as_ours || shape.comment) return false;
  return true;
}

bool Listing::chain_ours(std::string_view chain) const {
  auto it = shapes.find(std::string(chain));
  if (it == shapes.end() || !it->second.as_ours) return false;
  if (it->second.comment) return *it->second.comment == kOwnerComment;
  return table_ours();
}

Listing list_table(Context& ctx, const std::set<std::string>& decode, bool with_rules) {
  Listing listing;
  const std::optional<TableInfo> table = table_info(ctx);
  if (!table) return listing;
  listing.exists = true;
  listing.comment = table->comment;
  for (std::string_view chain : kChains) {
    // The table's use count covers every chain, set and object in it: once that many chains are found there
    // is nothing left to look for (a NAT-only table costs its two GETs, not one per name of ours).
    if (listing.chains.size() >= table->use) break;
    if (auto shape = chain_shape(ctx, chain)) {
      listing.chains.emplace(chain, 0);
      listing.shapes.emplace(chain, std::move(*shape));
    }
  }
  listing.others = table->use > listing.chains.size() ? table->use - listing.chains.size() : 0;
  if (!with_rules) return listing;

  // One dump of the rules of our table only: nf_tables_dump_rules skips every other table in the kernel.
  alignas(nlmsghdr) Buffer buf{};
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, 0);
  RulePtr filter(nftnl_rule_alloc());
  if (!filter) throw SystemError(ENOMEM, "nftnl_rule_alloc");
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, kTable);
  nftnl_rule_nlmsg_build_payload(nlh, filter.get());

  auto restart = [&] {
    listing.rules.clear();
    for (auto& [chain, n] : listing.chains) n = 0;
  };
  Answer a = ctx.get(
      nlh,
      [&](const nlmsghdr& reply) {
        ListedRule lr = scan_rule(reply);
        // Only the asked-for owners' rules need decoding; any other rule only counts towards its chain.
        if (lr.owner && decode.contains(*lr.owner)) {
          RulePtr r(nftnl_rule_alloc());
          if (!r) throw SystemError(ENOMEM, "nftnl_rule_alloc");
          if (nftnl_rule_nlmsg_parse(&reply, r.get()) < 0)
            throw SystemError(errno ? errno : EBADMSG, fmt::format("parse a rule of table inet {}", kTable));
          lr.entry = decode_rule(*r, "", *lr.owner);
        }
        ++listing.chains[lr.chain];  // a foreign chain with rules shows up here too
        listing.rules.push_back(std::move(lr));
      },
      restart);
  // The table went away between the GETs (another writer without our lock): it is empty now.
  if (a.err == ENOENT) return Listing{};
  if (a.err) fail(a, fmt::format("list rules of table inet {}", kTable));
  return listing;
}

}  // namespace topo::nft
