// libmnl's API as topocni and libnftnl.a use it. The fully static build links engine/mnl/ (our
// implementation), the dynamic ones (sanitizers, TOPO_STATIC_DEPS=OFF) Debian's libmnl: the same expectations
// run against both, so the two cannot drift apart unnoticed.
#include <doctest/doctest.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Seen {
  std::vector<uint16_t> types;
  int stop_at{-1};
};

// The attributes of a message after its family header, walked as mnl_attr_for_each does (the macro itself
// assigns a void* and only compiles as C).
std::vector<const nlattr*> attributes(const nlmsghdr* nlh, size_t offset) {
  std::vector<const nlattr*> out;
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    out.push_back(attr);
  }
  return out;
}

int collect(const struct nlattr* attr, void* data) {
  auto* seen = static_cast<Seen*>(data);
  seen->types.push_back(mnl_attr_get_type(attr));
  return mnl_attr_get_type(attr) == seen->stop_at ? MNL_CB_STOP : MNL_CB_OK;
}

}  // namespace

TEST_CASE("mnl: a message with scalars, a string and a nest round-trips, padded to 4 bytes") {
  alignas(4) std::array<char, 512> buf{};
  buf.fill('\xAA');  // the extra header must come out zeroed, not left as garbage
  auto* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  CHECK(ifi->ifi_index == 0);
  CHECK(nlh->nlmsg_len == MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ifinfomsg)));

  mnl_attr_put_u8(nlh, 1, 7);
  mnl_attr_put_u16(nlh, 2, 0x1234);
  mnl_attr_put_u32(nlh, 3, 0xdeadbeef);
  mnl_attr_put_u64(nlh, 4, 0x0102030405060708ULL);
  mnl_attr_put_strz(nlh, 5, "veth0");
  mnl_attr_put_str(nlh, 6, "abc");
  auto* nest = mnl_attr_nest_start(nlh, 7);
  mnl_attr_put_u32(nlh, 1, 42);
  mnl_attr_nest_end(nlh, nest);
  CHECK(nlh->nlmsg_len % 4 == 0);
  CHECK((nest->nla_type & NLA_F_NESTED) != 0);
  CHECK(mnl_attr_get_type(nest) == 7);
  CHECK(mnl_attr_get_payload_len(nest) == MNL_ATTR_HDRLEN + 4);

  Seen seen;
  CHECK(mnl_attr_parse(nlh, sizeof(ifinfomsg), collect, &seen) == MNL_CB_OK);
  CHECK(seen.types == std::vector<uint16_t>{1, 2, 3, 4, 5, 6, 7});

  auto attrs = attributes(nlh, sizeof(ifinfomsg));
  REQUIRE(attrs.size() == 7);
  CHECK(mnl_attr_get_u8(attrs[0]) == 7);
  CHECK(mnl_attr_get_u16(attrs[1]) == 0x1234);
  CHECK(mnl_attr_get_u32(attrs[2]) == 0xdeadbeef);
  CHECK(mnl_attr_get_u64(attrs[3]) == 0x0102030405060708ULL);
  CHECK(std::string(mnl_attr_get_str(attrs[4])) == "veth0");
  CHECK(mnl_attr_get_payload_len(attrs[4]) == 6);
  CHECK(mnl_attr_get_payload_len(attrs[5]) == 3);
  CHECK(attrs[5]->nla_len == MNL_ATTR_HDRLEN + 3);  // the length excludes the padding

  Seen inner;
  CHECK(mnl_attr_parse_nested(attrs[6], collect, &inner) == MNL_CB_OK);
  CHECK(inner.types == std::vector<uint16_t>{1});

  Seen stopped{.types = {}, .stop_at = 3};
  CHECK(mnl_attr_parse(nlh, sizeof(ifinfomsg), collect, &stopped) == MNL_CB_STOP);
  CHECK(stopped.types == std::vector<uint16_t>{1, 2, 3});

  // A cancelled nest leaves the message as it was.
  uint32_t len = nlh->nlmsg_len;
  auto* dropped = mnl_attr_nest_start(nlh, 8);
  mnl_attr_put_u32(nlh, 1, 1);
  mnl_attr_nest_cancel(nlh, dropped);
  CHECK(nlh->nlmsg_len == len);
}

TEST_CASE("mnl: the _check variants refuse what would not fit and change nothing") {
  alignas(4) std::array<char, 64> buf{};
  auto* nlh = mnl_nlmsg_put_header(buf.data());
  CHECK(mnl_attr_put_u32_check(nlh, buf.size(), 1, 5));
  uint32_t len = nlh->nlmsg_len;
  CHECK_FALSE(mnl_attr_put_strz_check(nlh, buf.size(), 2, std::string(60, 'x').c_str()));
  CHECK(nlh->nlmsg_len == len);
  CHECK(mnl_attr_nest_start_check(nlh, nlh->nlmsg_len + 2, 3) == nullptr);
  CHECK(mnl_attr_nest_start_check(nlh, buf.size(), 3) != nullptr);
}

TEST_CASE("mnl: validation rejects wrong lengths with ERANGE and bad strings with EINVAL") {
  alignas(4) std::array<char, 256> buf{};
  auto* nlh = mnl_nlmsg_put_header(buf.data());
  mnl_attr_put_u16(nlh, 1, 1);
  mnl_attr_put(nlh, 2, 0, nullptr);
  mnl_attr_put(nlh, 3, 3, "abc");
  mnl_attr_put_u64(nlh, 4, 1);
  auto a = attributes(nlh, 0);
  REQUIRE(a.size() == 4);

  CHECK(mnl_attr_validate(a[0], MNL_TYPE_U16) == 0);
  errno = 0;
  CHECK(mnl_attr_validate(a[0], MNL_TYPE_U32) == -1);  // too short
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(mnl_attr_validate(a[3], MNL_TYPE_U32) == -1);  // too long for a fixed size
  CHECK(errno == ERANGE);
  CHECK(mnl_attr_validate(a[1], MNL_TYPE_FLAG) == 0);
  CHECK(mnl_attr_validate(a[0], MNL_TYPE_FLAG) == -1);
  CHECK(mnl_attr_validate(a[1], MNL_TYPE_STRING) == -1);
  CHECK(mnl_attr_validate(a[2], MNL_TYPE_STRING) == 0);
  errno = 0;
  CHECK(mnl_attr_validate(a[2], MNL_TYPE_NUL_STRING) == -1);  // "abc" has no terminating NUL
  CHECK(errno == EINVAL);
  CHECK(mnl_attr_validate2(a[2], MNL_TYPE_BINARY, 3) == 0);
  CHECK(mnl_attr_validate2(a[2], MNL_TYPE_BINARY, 4) == -1);
  CHECK(mnl_attr_validate(a[1], MNL_TYPE_NESTED) == 0);   // an empty nest is fine
  CHECK(mnl_attr_validate(a[0], MNL_TYPE_NESTED) == -1);  // 2 bytes cannot hold an attribute
  CHECK(mnl_attr_type_valid(a[3], 4) == 1);
  errno = 0;
  CHECK(mnl_attr_type_valid(a[3], 3) == -1);
  CHECK(errno == EOPNOTSUPP);
}

TEST_CASE("mnl: a batch reports the message that crosses its limit and keeps it for the next round") {
  alignas(4) std::array<char, 256> buf{};
  auto* b = mnl_nlmsg_batch_start(buf.data(), 64);
  CHECK(mnl_nlmsg_batch_is_empty(b));
  auto put = [&](uint16_t type, size_t payload) {
    auto* nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
    nlh->nlmsg_type = type;
    mnl_attr_put(nlh, 1, payload, std::string(payload, 'p').data());
    return mnl_nlmsg_batch_next(b);
  };
  CHECK(put(20, 8));  // 16 + 4 + 8 = 28
  CHECK(put(21, 8));  // 56
  CHECK(mnl_nlmsg_batch_size(b) == 56);
  CHECK_FALSE(put(22, 8));  // 84 > 64: not counted
  CHECK(mnl_nlmsg_batch_size(b) == 56);
  CHECK(mnl_nlmsg_batch_head(b) == buf.data());
  mnl_nlmsg_batch_reset(b);  // the overflowing message moves to the front
  CHECK(mnl_nlmsg_batch_size(b) == 28);
  CHECK(reinterpret_cast<nlmsghdr*>(buf.data())->nlmsg_type == 22);
  CHECK(mnl_nlmsg_batch_current(b) == buf.data() + 28);
  mnl_nlmsg_batch_reset(b);
  CHECK(mnl_nlmsg_batch_is_empty(b));
  mnl_nlmsg_batch_stop(b);
}

namespace {

struct Replies {
  alignas(4) std::array<char, 512> buf{};
  size_t len{};
  nlmsghdr* add(uint16_t type, uint32_t seq, uint32_t pid, uint16_t flags = 0) {
    auto* nlh = mnl_nlmsg_put_header(buf.data() + len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = pid;
    nlh->nlmsg_flags = flags;
    return nlh;
  }
  void done(nlmsghdr* nlh) { len += MNL_ALIGN(nlh->nlmsg_len); }
  void error(int err, uint32_t seq, uint32_t pid) {
    auto* nlh = add(NLMSG_ERROR, seq, pid);
    auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    e->error = err;
    done(nlh);
  }
};

int count_data(const nlmsghdr*, void* data) {
  ++*static_cast<int*>(data);
  return MNL_CB_OK;
}

}  // namespace

TEST_CASE("mnl: cb_run hands data to the callback and stops at DONE, an ACK or an error") {
  {
    Replies r;
    r.done(r.add(RTM_NEWLINK, 7, 99));
    r.done(r.add(RTM_NEWLINK, 7, 99));
    r.done(r.add(NLMSG_DONE, 7, 99));
    r.done(r.add(RTM_NEWLINK, 7, 99));  // after DONE: never seen
    int n = 0;
    CHECK(mnl_cb_run(r.buf.data(), r.len, 7, 99, count_data, &n) == MNL_CB_STOP);
    CHECK(n == 2);
  }
  {
    Replies r;
    r.error(0, 7, 99);
    CHECK(mnl_cb_run(r.buf.data(), r.len, 7, 99, nullptr, nullptr) == MNL_CB_STOP);
  }
  {
    Replies r;
    r.error(-EEXIST, 7, 99);
    errno = 0;
    CHECK(mnl_cb_run(r.buf.data(), r.len, 7, 99, nullptr, nullptr) == MNL_CB_ERROR);
    CHECK(errno == EEXIST);
  }
  {
    Replies r;  // all data consumed, no DONE yet: the caller reads more
    r.done(r.add(RTM_NEWLINK, 7, 99));
    int n = 0;
    CHECK(mnl_cb_run(r.buf.data(), r.len, 7, 99, count_data, &n) == MNL_CB_OK);
    CHECK(n == 1);
  }
}

TEST_CASE("mnl: cb_run refuses a foreign sequence or port, and an interrupted dump") {
  int n = 0;
  Replies seq;
  seq.done(seq.add(RTM_NEWLINK, 8, 99));
  errno = 0;
  CHECK(mnl_cb_run(seq.buf.data(), seq.len, 7, 99, count_data, &n) == -1);
  CHECK(errno == EPROTO);
  CHECK(mnl_cb_run(seq.buf.data(), seq.len, 0, 99, count_data, &n) == MNL_CB_OK);  // 0: unchecked

  Replies port;
  port.done(port.add(RTM_NEWLINK, 7, 98));
  errno = 0;
  CHECK(mnl_cb_run(port.buf.data(), port.len, 7, 99, count_data, &n) == -1);
  CHECK(errno == ESRCH);

  Replies intr;
  intr.done(intr.add(RTM_NEWLINK, 7, 99, NLM_F_DUMP_INTR));
  errno = 0;
  CHECK(mnl_cb_run(intr.buf.data(), intr.len, 7, 99, count_data, &n) == -1);
  CHECK(errno == EINTR);
}

TEST_CASE("mnl: a socket binds to a kernel-assigned port and talks to the kernel") {
  auto* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  REQUIRE(nl != nullptr);
  CHECK(mnl_socket_get_fd(nl) >= 0);
  REQUIRE(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0);
  unsigned portid = mnl_socket_get_portid(nl);
  CHECK(portid != 0);
  int one = 1;
  CHECK(mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one)) == 0);
  int got = 0;
  socklen_t len = sizeof(got);
  CHECK(mnl_socket_getsockopt(nl, NETLINK_EXT_ACK, &got, &len) == 0);
  CHECK(got == 1);

  // Dump the links of this (any) namespace: at least lo comes back, then DONE.
  alignas(4) std::array<char, 64> req{};
  auto* nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1234;
  auto* rt = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg)));
  rt->rtgen_family = AF_UNSPEC;
  REQUIRE(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == static_cast<ssize_t>(nlh->nlmsg_len));
  std::vector<char> reply(32768);
  int links = 0;
  int ret = MNL_CB_OK;
  while (ret > MNL_CB_STOP) {
    ssize_t n = mnl_socket_recvfrom(nl, reply.data(), reply.size());
    REQUIRE(n > 0);
    ret = mnl_cb_run(reply.data(), n, 1234, portid, count_data, &links);
  }
  CHECK(ret == MNL_CB_STOP);
  CHECK(links >= 1);

  // A buffer too small for the reply is an error (ENOSPC), never a silently cut message.
  REQUIRE(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
  std::array<char, 16> tiny{};
  errno = 0;
  CHECK(mnl_socket_recvfrom(nl, tiny.data(), tiny.size()) == -1);
  CHECK(errno == ENOSPC);
  CHECK(mnl_socket_close(nl) == 0);
}
