#include "kernel/netlink/socket.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "topo/error.h"

namespace topo::netlink {

namespace {

// Dump replies are up to 32 KiB per recvmsg on current kernels (netlink_dump grows to max_recvmsg_len);
// leave headroom so a datagram is never truncated.
constexpr size_t kReceiveBuffer = 64 * 1024;
// Bytes of requests per sendmsg: well below the default SO_SNDBUF (netlink_sendmsg refuses a datagram larger
// than sk_sndbuf - 32 with EMSGSIZE).
constexpr size_t kBatchBytes = 64 * 1024;
// Receive buffer we ask for (SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it SO_RCVBUF is capped by rmem_max).
constexpr int kWantedRcvbuf = 4 * 1024 * 1024;
// A small ACK skb costs well under 2 KiB of receive buffer (skb truesize), counted against SO_RCVBUF.
constexpr size_t kAckCost = 2048;
constexpr int kDumpRetries = 5;

uint64_t g_mutations = 0;  // see Socket::mutations_sent

// rtnetlink numbers its types in groups of four: NEW, DEL, GET, SET (RTM_BASE + 4k + 2 is a GET).
void count_if_mutation(const nlmsghdr* msg) {
  if (msg->nlmsg_type >= RTM_BASE && (msg->nlmsg_type - RTM_BASE) % 4 != 2) ++g_mutations;
}

}  // namespace

// The attributes follow the nlmsgerr and the echoed request (only its header when NLM_F_CAPPED, which
// NETLINK_CAP_ACK makes the kernel do); for NLMSG_DONE they follow the int error (see netlink_ack and
// netlink_dump_done in net/netlink/af_netlink.c).
std::string ext_ack_message(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  size_t payload = mnl_nlmsg_get_payload_len(nlh);
  size_t offset;
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    if (payload < sizeof(nlmsgerr)) return {};
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  } else {
    offset = sizeof(int);
  }
  if (MNL_ALIGN(offset) > payload) return {};
  std::string message;
  for_each_attr(*nlh, offset, [&](const nlattr& attr) {
    auto* a = const_cast<nlattr*>(&attr);
    if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
      message = mnl_attr_get_str(a);
  });
  return message;
}

int error_of(const nlmsghdr* nlh) {
  size_t payload = mnl_nlmsg_get_payload_len(nlh);
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    if (payload < sizeof(nlmsgerr)) return EBADMSG;
    return -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->error;
  }
  // NLMSG_DONE carries the dump's final status as an int (0 on success).
  if (payload < sizeof(int)) return 0;
  int status;
  std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
  return -status;
}

// ---- Builder ----

Builder::Builder(void* buf, size_t capacity, uint16_t type, uint16_t flags) : capacity_(capacity) {
  if (capacity < MNL_NLMSG_HDRLEN) throw Error("netlink: buffer too small for a message header");
  std::memset(buf, 0, MNL_NLMSG_HDRLEN);
  nlh_ = mnl_nlmsg_put_header(buf);
  nlh_->nlmsg_type = type;
  nlh_->nlmsg_flags = NLM_F_REQUEST | flags;
}

void* Builder::extra(size_t len) {
  if (nlh_->nlmsg_len + MNL_ALIGN(len) > capacity_) throw Error("netlink: request does not fit its buffer");
  void* p = reinterpret_cast<char*>(nlh_) + nlh_->nlmsg_len;
  std::memset(p, 0, MNL_ALIGN(len));
  nlh_->nlmsg_len += MNL_ALIGN(len);
  return p;
}

void Builder::put(uint16_t type, const void* data, size_t len) {
  if (!mnl_attr_put_check(nlh_, capacity_, type, len, data))
    throw Error("netlink: attribute " + std::to_string(type) + " does not fit the request buffer");
}

Builder::Nest Builder::nest(uint16_t type) {
  nlattr* attr = mnl_attr_nest_start_check(nlh_, capacity_, type);
  if (!attr)
    throw Error("netlink: nested attribute " + std::to_string(type) + " does not fit the request buffer");
  return Nest(nlh_, attr);
}

// ---- Batch ----

Batch::Batch(size_t max_messages) : buf_(kBatchBytes + kMessageCapacity), max_messages_(max_messages) {
  // mnl_nlmsg_batch_next reports "full" once a message ends past the limit; we never start a message unless a
  // whole kMessageCapacity still fits below kBatchBytes, so that never happens.
  batch_ = mnl_nlmsg_batch_start(buf_.data(), kBatchBytes);
  if (!batch_) throw SystemError(errno, "netlink: start batch");
}

Batch::~Batch() { mnl_nlmsg_batch_stop(batch_); }

void Batch::commit() {
  if (!open_) return;
  mnl_nlmsg_batch_next(batch_);
  open_ = false;
}

Builder Batch::add(uint16_t type, uint16_t flags) {
  commit();
  if (full()) throw Error("netlink: batch is full");
  ++count_;
  open_ = true;
  return Builder(mnl_nlmsg_batch_current(batch_), kMessageCapacity, type, flags);
}

void Batch::cancel() {
  if (!open_) return;
  open_ = false;
  --count_;
}

bool Batch::full() const {
  // The request being written is not in mnl_nlmsg_batch_size yet: count it too.
  size_t used = mnl_nlmsg_batch_size(batch_);
  if (open_) used += static_cast<const nlmsghdr*>(mnl_nlmsg_batch_current(batch_))->nlmsg_len;
  return count_ >= max_messages_ || used + kMessageCapacity > kBatchBytes;
}

void Batch::clear() {
  open_ = false;
  count_ = 0;
  // reset keeps an overflowing message; there is none (see the constructor), so this empties the batch.
  mnl_nlmsg_batch_reset(batch_);
}

std::vector<nlmsghdr*> Batch::messages() {
  commit();
  std::vector<nlmsghdr*> out;
  out.reserve(count_);
  auto* p = static_cast<char*>(mnl_nlmsg_batch_head(batch_));
  auto* end = p + mnl_nlmsg_batch_size(batch_);
  while (p < end) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(p);
    out.push_back(nlh);
    p += MNL_ALIGN(nlh->nlmsg_len);
  }
  return out;
}

const void* Batch::data() {
  commit();
  return mnl_nlmsg_batch_head(batch_);
}

size_t Batch::size() {
  commit();
  return mnl_nlmsg_batch_size(batch_);
}

// ---- Socket ----

Socket Socket::open() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!nl) throw SystemError(errno, "netlink: open NETLINK_ROUTE socket");
  Socket s(nl);  // closes nl if anything below throws
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) throw SystemError(errno, "netlink: bind");
  int on = 1;
  // Extended ACKs: the kernel says why it refused a request (NLMSGERR_ATTR_MSG).
  if (mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof on) < 0)
    throw SystemError(errno, "netlink: NETLINK_EXT_ACK");
  // Strict checking: dump requests are validated and their header fields/attributes act as kernel-side
  // filters (ifa_index for addresses, RTA_TABLE/RTA_OIF for routes) instead of being ignored.
  if (mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &on, sizeof on) < 0)
    throw SystemError(errno, "netlink: NETLINK_GET_STRICT_CHK");
  // Errors echo only the request's header, not the whole request: smaller ACKs, more of them per buffer.
  mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof on);

  int fd = mnl_socket_get_fd(nl);
  int want = kWantedRcvbuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  int have = 0;
  socklen_t len = sizeof have;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &have, &len) == 0 && have > 0)
    s.batch_limit_ = std::max<size_t>(16, static_cast<size_t>(have) / kAckCost);
  return s;
}

Socket::Socket(mnl_socket* nl) : nl_(nl), seq_(static_cast<uint32_t>(time(nullptr))), rx_(kReceiveBuffer) {}

Socket::Socket(Socket&& o) noexcept
    : nl_(std::exchange(o.nl_, nullptr)), seq_(o.seq_), batch_limit_(o.batch_limit_), rx_(std::move(o.rx_)) {}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (nl_) mnl_socket_close(nl_);
    nl_ = std::exchange(o.nl_, nullptr);
    seq_ = o.seq_;
    batch_limit_ = o.batch_limit_;
    rx_ = std::move(o.rx_);
  }
  return *this;
}

Socket::~Socket() {
  if (nl_) mnl_socket_close(nl_);
}

void Socket::send(const void* data, size_t len) {
  ssize_t n = mnl_socket_sendto(nl_, data, len);
  if (n < 0) throw SystemError(errno, "netlink: send");
  if (static_cast<size_t>(n) != len) throw SystemError(EMSGSIZE, "netlink: short send");
}

void Socket::receive(uint32_t first, size_t count, std::vector<Ack>& answers, bool& interrupted,
                     const std::function<void(const nlmsghdr&)>& on_data) {
  answers.assign(count, Ack{});
  std::vector<bool> answered(count, false);
  size_t remaining = count;
  while (remaining > 0) {
    ssize_t n = mnl_socket_recvfrom(nl_, rx_.data(), rx_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      // ENOBUFS: the kernel dropped replies because our receive buffer was full; the answers are lost.
      throw SystemError(errno, "netlink: receive");
    }
    const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data());
    int left = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      // Replies to an earlier request that was given up on (an exception mid-read) carry older numbers.
      uint32_t i = nlh->nlmsg_seq - first;
      if (nlh->nlmsg_seq < first || i >= count || answered[i]) continue;
      if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
        answers[i] = Ack{error_of(nlh), ext_ack_message(nlh)};
        answered[i] = true;
        --remaining;
      } else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && on_data) {
        on_data(*nlh);
      }
    }
  }
}

uint64_t Socket::mutations_sent() { return g_mutations; }

Ack Socket::ack(nlmsghdr* msg) {
  count_if_mutation(msg);
  msg->nlmsg_flags |= NLM_F_ACK;
  msg->nlmsg_seq = ++seq_;
  send(msg, msg->nlmsg_len);
  std::vector<Ack> answers;
  bool interrupted = false;
  receive(msg->nlmsg_seq, 1, answers, interrupted, {});
  return answers[0];
}

Ack Socket::dump(nlmsghdr* msg, const std::function<void(const nlmsghdr&)>& each,
                 const std::function<void()>& restart) {
  // A non-dump get answers with one message and then, because of NLM_F_ACK, an ACK; a dump ends with
  // NLMSG_DONE (and sends no extra ACK). Either way exactly one final answer per request.
  if (!(msg->nlmsg_flags & NLM_F_DUMP)) msg->nlmsg_flags |= NLM_F_ACK;
  for (int attempt = 0;; ++attempt) {
    msg->nlmsg_seq = ++seq_;
    send(msg, msg->nlmsg_len);
    std::vector<Ack> answers;
    bool interrupted = false;
    receive(msg->nlmsg_seq, 1, answers, interrupted, each);
    if (!interrupted || !answers[0].ok()) return answers[0];
    if (attempt + 1 >= kDumpRetries) return Ack{EINTR, "dump kept being interrupted by concurrent changes"};
    if (restart) restart();
  }
}

std::vector<Ack> Socket::batch(Batch& b) {
  std::vector<Ack> answers;
  if (b.empty()) return answers;
  auto messages = b.messages();
  uint32_t first = seq_ + 1;
  for (nlmsghdr* m : messages) {
    count_if_mutation(m);
    m->nlmsg_flags |= NLM_F_ACK;
    m->nlmsg_seq = ++seq_;
  }
  send(b.data(), b.size());
  bool interrupted = false;
  receive(first, messages.size(), answers, interrupted, {});
  return answers;
}

}  // namespace topo::netlink
