// The nf_tables netlink socket of one network namespace (NETLINK_NETFILTER over libmnl). Created inside the
// target namespace: a netlink socket stays bound to the namespace it was opened in, whatever namespace the
// thread enters later. The Kernel keeps one per namespace for its whole life (see nat_table.h for why).
#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel/raw_buffer.h"

namespace topo::nft {

// The kernel's answer to one request: 0 or a positive errno, and the extended ACK text (NLMSGERR_ATTR_MSG).
struct Answer {
  int err{0};
  std::string ext_ack;
};

class Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  uint32_t next_seq() { return ++seq_; }

  // Sends a GET (dump or single object) and calls `each` for every reply. A dump the kernel marks
  // NLM_F_DUMP_INTR (the ruleset changed under it) is re-run from the start after `restart`, a few times;
  // if it keeps being interrupted the answer is EINTR. Errors come back in the Answer, not thrown.
  Answer get(nlmsghdr* request, const std::function<void(const nlmsghdr&)>& each,
             const std::function<void()>& restart = {});

  // Sends one nfnetlink batch (BATCH_BEGIN, requests with NLM_F_ACK, BATCH_END) in one sendmsg and returns
  // the answers of the requests with sequence numbers [first, first + count). nfnetlink processes the whole
  // batch inside sendmsg (nfnetlink_rcv_batch) and queues every ACK before it returns, so what is not in the
  // receive queue afterwards will never come. `batch_seq` is BATCH_BEGIN's: a batch-level failure (e.g. ENOMEM
  // while queueing errors) is reported against it and comes back as answers of err != 0 for everything.
  std::vector<Answer> commit(const void* data, size_t len, uint32_t batch_seq, uint32_t first, size_t count);

  // Netlink messages and bytes received by GETs on every Context of this process: lets a test prove that a
  // listing of our table does not read anybody else's.
  static uint64_t messages_received();
  static uint64_t bytes_received();

 private:
  ssize_t receive(bool wait);

  mnl_socket* nl_{nullptr};
  uint32_t seq_{0};
  uint32_t portid_{0};
  RawBuffer rx_;
};

}  // namespace topo::nft
