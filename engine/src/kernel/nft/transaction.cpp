#include "kernel/nft/transaction.h"

#include <fmt/format.h>
#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cerrno>
#include <memory>

#include "kernel/nft/context.h"
#include "kernel/nft/layout.h"
#include "kernel/nft/nat_table.h"
#include "kernel/nft/ownership.h"
#include "kinds/nat/rule_codec.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

// Room for one request while it is built (libnftnl writes attributes unchecked): a rule of ours is a few
// hundred bytes.
constexpr size_t kRequestRoom = 4096;

struct Freer {
  void operator()(nftnl_table* p) const { nftnl_table_free(p); }
  void operator()(nftnl_chain* p) const { nftnl_chain_free(p); }
};
using TablePtr = std::unique_ptr<nftnl_table, Freer>;
using ChainPtr = std::unique_ptr<nftnl_chain, Freer>;

TablePtr table() {
  TablePtr t(nftnl_table_alloc());
  if (!t) throw SystemError(ENOMEM, "nftnl_table_alloc");
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, kTable);
  return t;
}

ChainPtr chain(std::string_view name) {
  ChainPtr c(nftnl_chain_alloc());
  if (!c) throw SystemError(ENOMEM, "nftnl_chain_alloc");
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, kTable);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, std::string(name).c_str());
  return c;
}

}  // namespace

Transaction::Transaction() {
  // BATCH_BEGIN now, with its sequence number stamped at commit like every other one.
  buf_.resize(kRequestRoom);
  nlmsghdr* begin = nftnl_batch_begin(buf_.data(), 0);
  len_ = NLMSG_ALIGN(begin->nlmsg_len);
}

nlmsghdr* Transaction::start(uint16_t type, uint16_t flags) {
  buf_.resize(len_ + kRequestRoom);
  return nftnl_nlmsg_build_hdr(buf_.data() + len_, type, NFPROTO_INET, flags | NLM_F_ACK, 0);
}

void Transaction::finish(nlmsghdr* nlh, std::string what) {
  if (nlh->nlmsg_len > kRequestRoom) throw SystemError(EMSGSIZE, "nf_tables request too large: " + what);
  len_ += NLMSG_ALIGN(nlh->nlmsg_len);
  what_.push_back(std::move(what));
}

void Transaction::add_table() {
  nlmsghdr* nlh = start(NFT_MSG_NEWTABLE, NLM_F_CREATE);
  TablePtr t = table();
  const std::string mark = comment_userdata(kOwnerComment);  // ownership.h: how the table is known as ours
  nftnl_table_set_data(t.get(), NFTNL_TABLE_USERDATA, mark.data(), static_cast<uint32_t>(mark.size()));
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  finish(nlh, fmt::format("add table inet {}", kTable));
}

void Transaction::add_chain(std::string_view name) {
  const ChainSpec spec = chain_spec(name);
  ChainPtr c = chain(name);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, spec.type);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, spec.hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, spec.priority);
  const std::string mark = comment_userdata(kOwnerComment);
  nftnl_chain_set_data(c.get(), NFTNL_CHAIN_USERDATA, mark.data(), static_cast<uint32_t>(mark.size()));
  nlmsghdr* nlh = start(NFT_MSG_NEWCHAIN, NLM_F_CREATE);
  nftnl_chain_nlmsg_build_payload(nlh, c.get());
  finish(nlh, fmt::format("add chain inet {} {}", kTable, name));
}

void Transaction::add_rule(const nftnl_rule& r, std::string_view chain_name, const std::string& text) {
  nlmsghdr* nlh = start(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
  nftnl_rule_nlmsg_build_payload(nlh, const_cast<nftnl_rule*>(&r));
  finish(nlh, fmt::format("add rule inet {} {} {}", kTable, chain_name, text));
}

void Transaction::delete_rule(std::string_view chain_name, uint64_t handle, const std::string& text) {
  RulePtr r(nftnl_rule_alloc());
  if (!r) throw SystemError(ENOMEM, "nftnl_rule_alloc");
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, std::string(chain_name).c_str());
  nftnl_rule_set_u64(r.get(), NFTNL_RULE_HANDLE, handle);
  nlmsghdr* nlh = start(NFT_MSG_DELRULE, 0);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  finish(nlh, fmt::format("delete rule inet {} {} handle {} ({})", kTable, chain_name, handle, text));
}

void Transaction::delete_chain(std::string_view name) {
  nlmsghdr* nlh = start(NFT_MSG_DELCHAIN, 0);
  nftnl_chain_nlmsg_build_payload(nlh, chain(name).get());
  finish(nlh, fmt::format("delete chain inet {} {}", kTable, name));
}

void Transaction::delete_table() {
  nlmsghdr* nlh = start(NFT_MSG_DELTABLE, 0);
  nftnl_table_nlmsg_build_payload(nlh, table().get());
  finish(nlh, fmt::format("delete table inet {}", kTable));
}

void Transaction::commit(Context& ctx) {
  if (what_.empty()) return;
  buf_.resize(len_ + kRequestRoom);
  nftnl_batch_end(buf_.data() + len_, 0);
  len_ += NLMSG_ALIGN(reinterpret_cast<nlmsghdr*>(buf_.data() + len_)->nlmsg_len);

  // Sequence numbers in order: BATCH_BEGIN, the requests, BATCH_END.
  uint32_t batch_seq = 0, first = 0;
  size_t at = 0;
  for (size_t i = 0; at < len_; ++i) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data() + at);
    nlh->nlmsg_seq = ctx.next_seq();
    if (i == 0) batch_seq = nlh->nlmsg_seq;
    if (i == 1) first = nlh->nlmsg_seq;
    at += NLMSG_ALIGN(nlh->nlmsg_len);
  }
  std::vector<Answer> answers = ctx.commit(buf_.data(), len_, batch_seq, first, what_.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].err == 0) continue;
    std::string what = fmt::format("nf_tables transaction on table inet {} ({} requests) refused at `{}`", kTable,
                                   what_.size(), what_[i]);
    if (!answers[i].ext_ack.empty()) what += " (" + answers[i].ext_ack + ")";
    throw SystemError(answers[i].err, what);
  }
}

}  // namespace topo::nft
