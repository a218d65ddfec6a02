// Walking a buffer of netlink replies: libmnl's callback API, for the static build (see README.md here).
#include <libmnl/libmnl.h>

#include <cerrno>

namespace {

// NLMSG_ERROR carries the request's result: 0 is the acknowledgement (done), else -errno.
int on_error(const struct nlmsghdr* nlh, void*) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
    errno = EBADMSG;
    return MNL_CB_ERROR;
  }
  const auto* err = static_cast<const struct nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  errno = err->error < 0 ? -err->error : err->error;
  return err->error == 0 ? MNL_CB_STOP : MNL_CB_ERROR;
}

// Control messages (types below NLMSG_MIN_TYPE) the caller left unhandled.
int on_control(const struct nlmsghdr* nlh, void* data) {
  switch (nlh->nlmsg_type) {
    case NLMSG_ERROR:
      return on_error(nlh, data);
    case NLMSG_DONE:
      return MNL_CB_STOP;
    default:
      return MNL_CB_OK;  // NLMSG_NOOP, NLMSG_OVERRUN and the reserved types
  }
}

}  // namespace

// Checks each message's port id and sequence against ours (ESRCH, EPROTO), refuses an interrupted dump
// (NLM_F_DUMP_INTR: EINTR, the caller retries), and hands data messages to cb_data and control messages to
// the caller's table when it has an entry for that type, else to the defaults above.
int mnl_cb_run2(const void* buf, size_t numbytes, unsigned int seq, unsigned int portid, mnl_cb_t cb_data,
                void* data, mnl_cb_t* cb_ctl_array, unsigned int cb_ctl_array_len) {
  int ret = MNL_CB_OK;
  int len = static_cast<int>(numbytes);
  const auto* nlh = static_cast<const struct nlmsghdr*>(buf);
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (!mnl_nlmsg_portid_ok(nlh, portid)) {
      errno = ESRCH;
      return -1;
    }
    if (!mnl_nlmsg_seq_ok(nlh, seq)) {
      errno = EPROTO;
      return -1;
    }
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
      errno = EINTR;
      return -1;
    }
    if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
      if (cb_data == nullptr) continue;
      ret = cb_data(nlh, data);
    } else if (nlh->nlmsg_type < cb_ctl_array_len) {
      if (cb_ctl_array == nullptr || cb_ctl_array[nlh->nlmsg_type] == nullptr) continue;
      ret = cb_ctl_array[nlh->nlmsg_type](nlh, data);
    } else {
      ret = on_control(nlh, data);
    }
    if (ret <= MNL_CB_STOP) return ret;
  }
  return ret;
}

int mnl_cb_run(const void* buf, size_t numbytes, unsigned int seq, unsigned int portid, mnl_cb_t cb_data,
               void* data) {
  return mnl_cb_run2(buf, numbytes, seq, portid, cb_data, data, nullptr, 0);
}
