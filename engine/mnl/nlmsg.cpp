// Netlink message headers and batches: libmnl's message API, for the static build (see README.md here).
#include <libmnl/libmnl.h>

#include <cstdlib>
#include <cstring>

namespace {
char* bytes(const void* p) { return const_cast<char*>(static_cast<const char*>(p)); }
}  // namespace

size_t mnl_nlmsg_size(size_t len) { return len + MNL_NLMSG_HDRLEN; }

size_t mnl_nlmsg_get_payload_len(const struct nlmsghdr* nlh) { return nlh->nlmsg_len - MNL_NLMSG_HDRLEN; }

struct nlmsghdr* mnl_nlmsg_put_header(void* buf) {
  std::memset(buf, 0, MNL_NLMSG_HDRLEN);
  auto* nlh = static_cast<struct nlmsghdr*>(buf);
  nlh->nlmsg_len = MNL_NLMSG_HDRLEN;
  return nlh;
}

// The family header (ifinfomsg, nfgenmsg...) goes right after the netlink header, zeroed and padded.
void* mnl_nlmsg_put_extra_header(struct nlmsghdr* nlh, size_t size) {
  char* at = bytes(nlh) + nlh->nlmsg_len;
  size_t padded = MNL_ALIGN(size);
  nlh->nlmsg_len += padded;
  std::memset(at, 0, padded);
  return at;
}

void* mnl_nlmsg_get_payload(const struct nlmsghdr* nlh) { return bytes(nlh) + MNL_NLMSG_HDRLEN; }

void* mnl_nlmsg_get_payload_offset(const struct nlmsghdr* nlh, size_t offset) {
  return bytes(nlh) + MNL_NLMSG_HDRLEN + MNL_ALIGN(offset);
}

void* mnl_nlmsg_get_payload_tail(const struct nlmsghdr* nlh) {
  return bytes(nlh) + MNL_ALIGN(nlh->nlmsg_len);
}

// A message is usable when its header fits in what is left and its stated length does too.
bool mnl_nlmsg_ok(const struct nlmsghdr* nlh, int len) {
  return len >= static_cast<int>(sizeof(struct nlmsghdr)) && nlh->nlmsg_len >= sizeof(struct nlmsghdr) &&
         static_cast<int>(nlh->nlmsg_len) <= len;
}

struct nlmsghdr* mnl_nlmsg_next(const struct nlmsghdr* nlh, int* len) {
  *len -= MNL_ALIGN(nlh->nlmsg_len);
  return reinterpret_cast<struct nlmsghdr*>(bytes(nlh) + MNL_ALIGN(nlh->nlmsg_len));
}

// Zero on either side means "do not check" (kernel notifications carry sequence 0 and port 0).
bool mnl_nlmsg_seq_ok(const struct nlmsghdr* nlh, unsigned int seq) {
  return nlh->nlmsg_seq == 0 || seq == 0 || nlh->nlmsg_seq == seq;
}

bool mnl_nlmsg_portid_ok(const struct nlmsghdr* nlh, unsigned int portid) {
  return nlh->nlmsg_pid == 0 || portid == 0 || nlh->nlmsg_pid == portid;
}

// A batch packs several messages into one buffer for one sendto() (nftables transactions). The caller's
// buffer is larger than `limit` by at least one message: a message that crosses the limit is written there,
// batch_next() reports the overflow, and batch_reset() moves it to the front once the rest is sent.
struct mnl_nlmsg_batch {
  char* head;
  size_t limit;
  size_t used;
  char* current;
  bool overflow;
};

struct mnl_nlmsg_batch* mnl_nlmsg_batch_start(void* buf, size_t limit) {
  auto* b = static_cast<mnl_nlmsg_batch*>(std::malloc(sizeof(mnl_nlmsg_batch)));
  if (b == nullptr) return nullptr;
  *b = mnl_nlmsg_batch{static_cast<char*>(buf), limit, 0, static_cast<char*>(buf), false};
  return b;
}

bool mnl_nlmsg_batch_next(struct mnl_nlmsg_batch* b) {
  auto* nlh = reinterpret_cast<struct nlmsghdr*>(b->current);
  if (b->used + nlh->nlmsg_len > b->limit) {
    b->overflow = true;
    return false;
  }
  b->used += nlh->nlmsg_len;
  b->current = b->head + b->used;
  return true;
}

void mnl_nlmsg_batch_stop(struct mnl_nlmsg_batch* b) { std::free(b); }

size_t mnl_nlmsg_batch_size(struct mnl_nlmsg_batch* b) { return b->used; }

void mnl_nlmsg_batch_reset(struct mnl_nlmsg_batch* b) {
  if (b->overflow) {
    auto* nlh = reinterpret_cast<struct nlmsghdr*>(b->current);
    std::memmove(b->head, b->current, nlh->nlmsg_len);
    b->used = nlh->nlmsg_len;
    b->overflow = false;
  } else {
    b->used = 0;
  }
  b->current = b->head + b->used;
}

void* mnl_nlmsg_batch_head(struct mnl_nlmsg_batch* b) { return b->head; }

void* mnl_nlmsg_batch_current(struct mnl_nlmsg_batch* b) { return b->current; }

bool mnl_nlmsg_batch_is_empty(struct mnl_nlmsg_batch* b) { return b->used == 0; }
