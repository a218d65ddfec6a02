// One synchronous rtnetlink socket over libmnl, plus the builders requests are written with. A plugin needs
// no event loop: every call sends, then reads until the kernel has answered that request.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel/raw_buffer.h"

namespace topo::netlink {

// Room for one request. The largest we build (a veth create with its peer) needs a few hundred bytes.
inline constexpr size_t kMessageCapacity = 2048;

// The kernel's answer to one request: 0 or a positive errno, and the extended ACK text (NLMSGERR_ATTR_MSG).
struct Ack {
  int err{0};
  std::string ext_ack;
  bool ok() const { return err == 0; }
};

// What an NLMSG_ERROR or NLMSG_DONE answer says, for every netlink family (rtnetlink, nfnetlink): its errno
// (0 for success), and its extended ACK message ("" if none).
int error_of(const nlmsghdr* nlh);
std::string ext_ack_message(const nlmsghdr* nlh);

// Calls f(const nlattr&) for each attribute of `nlh` after its fixed header of `offset` bytes, stopping at
// the first malformed one. (libmnl's mnl_attr_for_each assigns a void*, which C++ does not accept.)
template <class F>
void for_each_attr(const nlmsghdr& nlh, size_t offset, F&& f) {
  auto* nh = const_cast<nlmsghdr*>(&nlh);
  if (MNL_ALIGN(offset) > mnl_nlmsg_get_payload_len(nh)) return;
  auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nh, offset));
  auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nh));
  while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    f(*attr);
    attr = mnl_attr_next(attr);
  }
}

// The same for the attributes nested in `nest`.
template <class F>
void for_each_nested(const nlattr& nest, F&& f) {
  auto* attr = static_cast<const nlattr*>(mnl_attr_get_payload(&nest));
  auto* tail = reinterpret_cast<const char*>(&nest) + nest.nla_len;
  while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    f(*attr);
    attr = mnl_attr_next(attr);
  }
}

// Writes one request in place into a buffer it does not own. Every put is bounds-checked against the buffer
// (mnl_attr_put_check) and throws instead of writing past it.
class Builder {
 public:
  Builder(void* buf, size_t capacity, uint16_t type, uint16_t flags);

  nlmsghdr* msg() const { return nlh_; }

  // A zeroed fixed header (ifinfomsg, rtmsg, ...) or raw struct appended at the tail of the message.
  template <class T>
  T& header() {
    return *static_cast<T*>(extra(sizeof(T)));
  }
  void* extra(size_t len);

  void put(uint16_t type, const void* data, size_t len);
  void put_u8(uint16_t type, uint8_t v) { put(type, &v, sizeof v); }
  void put_u32(uint16_t type, uint32_t v) { put(type, &v, sizeof v); }
  void put_str(uint16_t type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }  // NUL included

  // Closes the nested attribute when it goes out of scope, so its length covers exactly what was put inside.
  class Nest {
   public:
    Nest(nlmsghdr* nlh, nlattr* attr) : nlh_(nlh), attr_(attr) {}
    ~Nest() { mnl_attr_nest_end(nlh_, attr_); }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    nlmsghdr* nlh_;
    nlattr* attr_;
  };
  [[nodiscard]] Nest nest(uint16_t type);

 private:
  nlmsghdr* nlh_;
  size_t capacity_;
};

// One request with a buffer of its own.
class Message {
 public:
  Message(uint16_t type, uint16_t flags) : builder_(buf_.data(), buf_.size(), type, flags) {}
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  Builder& builder() { return builder_; }
  nlmsghdr* msg() const { return builder_.msg(); }

 private:
  alignas(
      nlmsghdr) std::array<char, kMessageCapacity> buf_{};  // declared before builder_, which points into it
  Builder builder_;
};

// Many requests back to back in one buffer, sent with one sendmsg (mnl_nlmsg_batch). Each is ACKed on its
// own.
class Batch {
 public:
  explicit Batch(size_t max_messages);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // Starts the next request. Check full() first.
  Builder add(uint16_t type, uint16_t flags);
  // Drops the request started last (e.g. its encoding failed halfway): the next add() overwrites it.
  void cancel();
  bool full() const;
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  void clear();

  // The requests, sealed (the last one committed). Sequence numbers are stamped by the socket.
  std::vector<nlmsghdr*> messages();
  const void* data();
  size_t size();

 private:
  void commit();

  RawBuffer buf_;
  mnl_nlmsg_batch* batch_{nullptr};
  size_t count_{0};
  size_t max_messages_;
  bool open_{false};  // a request was started and not yet committed with mnl_nlmsg_batch_next
};

class Socket {
 public:
  // A NETLINK_ROUTE socket in the calling thread's current network namespace; it stays bound to that
  // namespace for its whole life, whatever namespace the thread enters later.
  static Socket open();

  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Sends one request with NLM_F_ACK and returns the kernel's answer.
  Ack ack(nlmsghdr* msg);

  // Sends a dump (or a get with a single reply) and calls `each` for every reply. A dump the kernel marks
  // NLM_F_DUMP_INTR (its view changed under it) is re-run from the start after calling `restart`, a few
  // times; if it keeps getting interrupted the answer is EINTR. Errors come back in the Ack, not thrown.
  Ack dump(nlmsghdr* msg, const std::function<void(const nlmsghdr&)>& each,
           const std::function<void()>& restart = {});

  // Sends every request of the batch in one sendmsg and returns one Ack per request, in order. rtnetlink
  // processes the requests one after the other in the sender's context and goes on after a failed one.
  std::vector<Ack> batch(Batch& b);

  // How many requests a batch may hold so that all their ACKs fit the receive buffer (an ACK that does not
  // fit is dropped by the kernel and the socket reports ENOBUFS).
  size_t batch_limit() const { return batch_limit_; }

  // Requests that change something (every rtnetlink type but RTM_GET*) this process has sent, over all
  // sockets: lets a benchmark or test prove that a no-op apply sent none.
  static uint64_t mutations_sent();

 private:
  explicit Socket(mnl_socket* nl);
  void send(const void* data, size_t len);
  // Reads replies for sequence numbers [first, first + count) until each got its final answer; `on_data` gets
  // the non-ACK messages; answers[i] is set for first + i.
  void receive(uint32_t first, size_t count, std::vector<Ack>& answers, bool& interrupted,
               const std::function<void(const nlmsghdr&)>& on_data);

  mnl_socket* nl_{nullptr};
  uint32_t seq_{0};
  size_t batch_limit_{64};
  RawBuffer rx_;
};

}  // namespace topo::netlink
