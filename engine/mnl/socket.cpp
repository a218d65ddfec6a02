// Netlink sockets: libmnl's socket API, for the static build (see README.md here).
#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

struct mnl_socket {
  int fd;
  struct sockaddr_nl addr;  // our end, as bound (nl_pid is the port id the kernel assigned)
};

struct mnl_socket* mnl_socket_open2(int bus, int flags) {
  auto* nl = static_cast<mnl_socket*>(std::calloc(1, sizeof(mnl_socket)));
  if (nl == nullptr) return nullptr;
  nl->fd = socket(AF_NETLINK, SOCK_RAW | flags, bus);
  if (nl->fd < 0) {
    int saved = errno;
    std::free(nl);
    errno = saved;
    return nullptr;
  }
  return nl;
}

struct mnl_socket* mnl_socket_open(int bus) {
  return mnl_socket_open2(bus, 0);
}

// Adopts a socket opened elsewhere; it must be a netlink socket (its address tells).
struct mnl_socket* mnl_socket_fdopen(int fd) {
  struct sockaddr_nl addr {};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) < 0) return nullptr;
  if (len != sizeof(addr) || addr.nl_family != AF_NETLINK) {
    errno = EINVAL;
    return nullptr;
  }
  auto* nl = static_cast<mnl_socket*>(std::calloc(1, sizeof(mnl_socket)));
  if (nl == nullptr) return nullptr;
  nl->fd = fd;
  nl->addr = addr;
  return nl;
}

int mnl_socket_bind(struct mnl_socket* nl, unsigned int groups, pid_t pid) {
  nl->addr = sockaddr_nl{};
  nl->addr.nl_family = AF_NETLINK;
  nl->addr.nl_groups = groups;
  nl->addr.nl_pid = static_cast<__u32>(pid);
  if (bind(nl->fd, reinterpret_cast<struct sockaddr*>(&nl->addr), sizeof(nl->addr)) < 0) return -1;
  // With pid 0 (MNL_SOCKET_AUTOPID) the kernel picks the port id: read it back.
  socklen_t len = sizeof(nl->addr);
  if (getsockname(nl->fd, reinterpret_cast<struct sockaddr*>(&nl->addr), &len) < 0) return -1;
  if (len != sizeof(nl->addr) || nl->addr.nl_family != AF_NETLINK) {
    errno = EINVAL;
    return -1;
  }
  return 0;
}

int mnl_socket_close(struct mnl_socket* nl) {
  int ret = close(nl->fd);
  std::free(nl);
  return ret;
}

int mnl_socket_get_fd(const struct mnl_socket* nl) { return nl->fd; }

unsigned int mnl_socket_get_portid(const struct mnl_socket* nl) { return nl->addr.nl_pid; }

// Requests go to the kernel: port 0.
ssize_t mnl_socket_sendto(const struct mnl_socket* nl, const void* req, size_t size) {
  struct sockaddr_nl kernel {};
  kernel.nl_family = AF_NETLINK;
  return sendto(nl->fd, req, size, 0, reinterpret_cast<const struct sockaddr*>(&kernel), sizeof(kernel));
}

// A datagram larger than the buffer is cut by the kernel (MSG_TRUNC): that is an error, never a short read.
ssize_t mnl_socket_recvfrom(const struct mnl_socket* nl, void* buf, size_t size) {
  struct sockaddr_nl from {};
  struct iovec iov {
    buf, size
  };
  struct msghdr msg {};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t ret = recvmsg(nl->fd, &msg, 0);
  if (ret < 0) return ret;
  if (msg.msg_flags & MSG_TRUNC) {
    errno = ENOSPC;
    return -1;
  }
  if (msg.msg_namelen != sizeof(from)) {
    errno = EINVAL;
    return -1;
  }
  return ret;
}

int mnl_socket_setsockopt(const struct mnl_socket* nl, int type, void* buf, socklen_t len) {
  return setsockopt(nl->fd, SOL_NETLINK, type, buf, len);
}

int mnl_socket_getsockopt(const struct mnl_socket* nl, int type, void* buf, socklen_t* len) {
  return getsockopt(nl->fd, SOL_NETLINK, type, buf, len);
}
