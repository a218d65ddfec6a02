// Runs consecutive changes of one rtnetlink kind (addresses, routes) in one scope as netlink batches: many
// requests per sendmsg, each ACKed, so 10,000 routes cost a few sendmsg calls instead of 10,000 round trips.
//
// rtnetlink handles the requests of a batch one after the other and goes on after a failed one
// (netlink_rcv_skb), so a batch can end with successes after the first failure: all of them are reported to
// `progress` as taken effect, and the failure as the change that stopped the run. The caller's undo path
// (plan/executor.cpp) then undoes exactly what took effect.
#pragma once

#include <exception>
#include <vector>

#include "kernel/kernel_context.h"
#include "topo/error.h"

namespace topo::netlink {

// `encode(Batch&, const Change&)` adds the request for one change (it may throw, e.g. ENODEV for a device
// that is not there, before anything of it is sent).
template <class Encode>
void run_batched(KernelContext& k, const std::vector<Change>& changes, size_t begin, size_t end, Progress& p,
                 Encode encode) {
  const std::string& scope = scope_of(changes[begin].object);
  Socket& sock = k.socket(scope);
  Batch batch(sock.batch_limit());
  size_t next = begin;
  while (next < end) {
    batch.clear();
    std::vector<size_t> index;  // change index of each request in the batch
    std::exception_ptr stop;    // a change that failed before being sent: the batch ends before it
    while (next < end && !batch.full()) {
      const Change& c = changes[next];
      try {
        p.attempt(next, c);
        encode(batch, c);
      } catch (...) {
        stop = std::current_exception();
        break;
      }
      index.push_back(next++);
    }
    auto answers = sock.batch(batch);
    std::optional<size_t> failed;
    for (size_t a = 0; a < answers.size(); ++a) {
      if (answers[a].ok())
        p.took_effect(index[a]);
      else if (!failed)
        failed = a;
    }
    if (failed) {
      const Change& c = changes[index[*failed]];
      p.failed_at(index[*failed]);
      throw NetlinkError(answers[*failed].err, operation_of(c), describe(c.object), answers[*failed].ext_ack);
    }
    if (stop) std::rethrow_exception(stop);
  }
}

}  // namespace topo::netlink
