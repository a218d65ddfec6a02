// One nf_tables transaction on table inet topocni: requests collected into one nfnetlink batch
// (NFNL_MSG_BATCH_BEGIN ... BATCH_END) that the kernel commits all or nothing, every request ACKed and
// checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct nftnl_rule;
struct nlmsghdr;

namespace topo::nft {

class Context;

class Transaction {
 public:
  Transaction();

  void add_table();
  void add_chain(std::string_view chain);  // as chain_spec(chain) says
  // `text` is how errors name the rule (its rule_text()).
  void add_rule(const nftnl_rule& r, std::string_view chain, const std::string& text);
  void delete_rule(std::string_view chain, uint64_t handle, const std::string& text);
  void delete_chain(std::string_view chain);
  void delete_table();

  size_t size() const { return what_.size(); }

  // Sends the batch and checks every ACK. Throws SystemError with the errno and extended ACK text of the
  // first request the kernel refused, naming that request; the kernel has then committed nothing.
  void commit(Context& ctx);

 private:
  nlmsghdr* start(uint16_t type, uint16_t flags);
  void finish(nlmsghdr* nlh, std::string what);

  std::vector<char> buf_;
  size_t len_{0};
  std::vector<std::string> what_;  // per request, for errors
};

}  // namespace topo::nft
