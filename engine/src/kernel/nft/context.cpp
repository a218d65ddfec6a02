#include "kernel/nft/context.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>

#include "kernel/netlink/socket.h"
#include "topo/error.h"

namespace topo::nft {

namespace {

uint64_t g_messages = 0;
uint64_t g_bytes = 0;

}  // namespace

uint64_t Context::messages_received() { return g_messages; }
uint64_t Context::bytes_received() { return g_bytes; }

Context::Context() : rx_(32768) {  // MNL_SOCKET_DUMP_SIZE of newer libmnl
  nl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!nl_) throw SystemError(errno, "open nf_tables netlink socket");
  int on = 1;
  // Error text from the kernel, and ACKs without a copy of the request (a rule is a few hundred bytes).
  mnl_socket_setsockopt(nl_, NETLINK_EXT_ACK, &on, sizeof on);
  mnl_socket_setsockopt(nl_, NETLINK_CAP_ACK, &on, sizeof on);
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl_);
    throw SystemError(err, "bind nf_tables netlink socket");
  }
  portid_ = mnl_socket_get_portid(nl_);
}

Context::~Context() {
  if (nl_) mnl_socket_close(nl_);
}

ssize_t Context::receive(bool wait) {
  for (;;) {
    ssize_t n = recv(mnl_socket_get_fd(nl_), rx_.data(), rx_.size(), wait ? 0 : MSG_DONTWAIT);
    if (n >= 0 || errno != EINTR) return n;
  }
}

Answer Context::get(nlmsghdr* request, const std::function<void(const nlmsghdr&)>& each,
                    const std::function<void()>& restart) {
  // A single-object GET is ACKed so that every answer ends with an NLMSG_ERROR (0 after the object).
  if (!(request->nlmsg_flags & NLM_F_DUMP)) request->nlmsg_flags |= NLM_F_ACK;
  for (int attempt = 0; attempt < 5; ++attempt) {
    request->nlmsg_seq = next_seq();
    if (mnl_socket_sendto(nl_, request, request->nlmsg_len) < 0) return {errno, {}};
    bool interrupted = false;
    for (;;) {
      ssize_t n = receive(true);
      if (n < 0) return {errno, {}};
      g_bytes += static_cast<uint64_t>(n);
      int left = static_cast<int>(n);
      bool done = false;
      Answer answer;
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data()); mnl_nlmsg_ok(nlh, left);
           nlh = mnl_nlmsg_next(nlh, &left)) {
        ++g_messages;
        if (nlh->nlmsg_seq != request->nlmsg_seq || nlh->nlmsg_pid != portid_) continue;  // stale
        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
          answer = {netlink::error_of(nlh), netlink::ext_ack_message(nlh)};
          done = true;
        } else if (!interrupted) {
          each(*nlh);
        }
      }
      if (!done) continue;
      if (!interrupted || answer.err != 0) return answer;
      break;
    }
    if (restart) restart();
  }
  return {EINTR, "dump kept being interrupted by ruleset changes"};
}

std::vector<Answer> Context::commit(const void* data, size_t len, uint32_t batch_seq, uint32_t first,
                                    size_t count) {
  std::vector<Answer> answers(count);
  std::vector<bool> got(count, false);
  if (mnl_socket_sendto(nl_, data, len) < 0) throw SystemError(errno, "send nf_tables batch");
  size_t pending = count;
  bool batch_failed = false;
  Answer batch_answer;
  for (bool wait = true; pending > 0 && !batch_failed; wait = false) {
    ssize_t n = receive(wait);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) throw SystemError(errno, "receive nf_tables batch ACKs");
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != portid_) continue;
      if (nlh->nlmsg_seq == batch_seq) {
        batch_failed = true;
        batch_answer = {netlink::error_of(nlh), netlink::ext_ack_message(nlh)};
        continue;
      }
      if (nlh->nlmsg_seq < first || nlh->nlmsg_seq >= first + count) continue;
      size_t i = nlh->nlmsg_seq - first;
      if (!got[i]) --pending;
      got[i] = true;
      answers[i] = {netlink::error_of(nlh), netlink::ext_ack_message(nlh)};
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (got[i]) continue;
    answers[i] = batch_failed ? batch_answer : Answer{EPROTO, "no ACK from the kernel"};
  }
  return answers;
}

}  // namespace topo::nft
