// Netlink attributes (type-length-value): libmnl's attribute API, for the static build (see README.md here).
#include <libmnl/libmnl.h>

#include <cerrno>
#include <cstring>

namespace {

char* bytes(const void* p) { return const_cast<char*>(static_cast<const char*>(p)); }

// The payload length each fixed-size type must have; 0: any length (checked per type below).
size_t fixed_length(enum mnl_attr_data_type type) {
  switch (type) {
    case MNL_TYPE_U8:
      return sizeof(uint8_t);
    case MNL_TYPE_U16:
      return sizeof(uint16_t);
    case MNL_TYPE_U32:
      return sizeof(uint32_t);
    case MNL_TYPE_U64:
    case MNL_TYPE_MSECS:
      return sizeof(uint64_t);
    default:
      return 0;
  }
}

int invalid(int err) {
  errno = err;
  return -1;
}

// Fails with ERANGE on a payload shorter (or, for a fixed-size type, longer) than `expected`, and on the
// per-type rules: a flag has no payload, strings are not empty, a NUL string ends in NUL, a non-empty
// nest holds at least one attribute header.
int validate(const struct nlattr* attr, enum mnl_attr_data_type type, size_t expected) {
  size_t len = mnl_attr_get_payload_len(attr);
  const char* data = static_cast<const char*>(mnl_attr_get_payload(attr));
  if (len < expected) return invalid(ERANGE);
  switch (type) {
    case MNL_TYPE_FLAG:
      if (len > 0) return invalid(ERANGE);
      break;
    case MNL_TYPE_NUL_STRING:
      if (len == 0) return invalid(ERANGE);
      if (data[len - 1] != '\0') return invalid(EINVAL);
      break;
    case MNL_TYPE_STRING:
      if (len == 0) return invalid(ERANGE);
      break;
    case MNL_TYPE_NESTED:
      if (len != 0 && len < MNL_ATTR_HDRLEN) return invalid(ERANGE);
      break;
    default:
      break;
  }
  if (expected != 0 && len > expected) return invalid(ERANGE);
  return 0;
}

// Calls `cb` on each well-formed attribute in [first, end), stopping when it returns STOP or ERROR.
int parse_range(const char* first, const char* end, mnl_attr_cb_t cb, void* data) {
  for (auto* attr = reinterpret_cast<const struct nlattr*>(first);
       mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    int ret = cb(attr, data);
    if (ret <= MNL_CB_STOP) return ret;
  }
  return MNL_CB_OK;
}

}  // namespace

uint16_t mnl_attr_get_type(const struct nlattr* attr) { return attr->nla_type & NLA_TYPE_MASK; }

uint16_t mnl_attr_get_len(const struct nlattr* attr) { return attr->nla_len; }

uint16_t mnl_attr_get_payload_len(const struct nlattr* attr) { return attr->nla_len - MNL_ATTR_HDRLEN; }

void* mnl_attr_get_payload(const struct nlattr* attr) { return bytes(attr) + MNL_ATTR_HDRLEN; }

bool mnl_attr_ok(const struct nlattr* attr, int len) {
  return len >= static_cast<int>(sizeof(struct nlattr)) && attr->nla_len >= sizeof(struct nlattr) &&
         static_cast<int>(attr->nla_len) <= len;
}

struct nlattr* mnl_attr_next(const struct nlattr* attr) {
  return reinterpret_cast<struct nlattr*>(bytes(attr) + MNL_ALIGN(attr->nla_len));
}

int mnl_attr_type_valid(const struct nlattr* attr, uint16_t maxtype) {
  if (mnl_attr_get_type(attr) > maxtype) return invalid(EOPNOTSUPP);
  return 1;
}

int mnl_attr_validate(const struct nlattr* attr, enum mnl_attr_data_type type) {
  if (type >= MNL_TYPE_MAX) return invalid(EINVAL);
  return validate(attr, type, fixed_length(type));
}

int mnl_attr_validate2(const struct nlattr* attr, enum mnl_attr_data_type type, size_t len) {
  if (type >= MNL_TYPE_MAX) return invalid(EINVAL);
  return validate(attr, type, len);
}

int mnl_attr_parse(const struct nlmsghdr* nlh, unsigned int offset, mnl_attr_cb_t cb, void* data) {
  return parse_range(static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, offset)),
                     static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)), cb, data);
}

int mnl_attr_parse_nested(const struct nlattr* nested, mnl_attr_cb_t cb, void* data) {
  const char* first = static_cast<const char*>(mnl_attr_get_payload(nested));
  return parse_range(first, first + mnl_attr_get_payload_len(nested), cb, data);
}

int mnl_attr_parse_payload(const void* payload, size_t payload_len, mnl_attr_cb_t cb, void* data) {
  const char* first = static_cast<const char*>(payload);
  return parse_range(first, first + payload_len, cb, data);
}

// Scalars are read with memcpy: a u64 after a 4-byte-aligned header is not 8-byte aligned.
uint8_t mnl_attr_get_u8(const struct nlattr* attr) {
  return *static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
}

uint16_t mnl_attr_get_u16(const struct nlattr* attr) {
  uint16_t v;
  std::memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
  return v;
}

uint32_t mnl_attr_get_u32(const struct nlattr* attr) {
  uint32_t v;
  std::memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
  return v;
}

uint64_t mnl_attr_get_u64(const struct nlattr* attr) {
  uint64_t v;
  std::memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
  return v;
}

const char* mnl_attr_get_str(const struct nlattr* attr) {
  return static_cast<const char*>(mnl_attr_get_payload(attr));
}

// nla_len counts the header and the payload, not the padding; the message grows by the padded size and the
// padding is zeroed (the kernel does not care, but a byte-exact dump does).
void mnl_attr_put(struct nlmsghdr* nlh, uint16_t type, size_t len, const void* data) {
  auto* attr = static_cast<struct nlattr*>(mnl_nlmsg_get_payload_tail(nlh));
  attr->nla_type = type;
  attr->nla_len = static_cast<uint16_t>(MNL_ATTR_HDRLEN + len);
  char* payload = static_cast<char*>(mnl_attr_get_payload(attr));
  if (len > 0) std::memcpy(payload, data, len);
  std::memset(payload + len, 0, MNL_ALIGN(len) - len);
  nlh->nlmsg_len += MNL_ALIGN(attr->nla_len);
}

void mnl_attr_put_u8(struct nlmsghdr* nlh, uint16_t type, uint8_t data) {
  mnl_attr_put(nlh, type, sizeof(data), &data);
}
void mnl_attr_put_u16(struct nlmsghdr* nlh, uint16_t type, uint16_t data) {
  mnl_attr_put(nlh, type, sizeof(data), &data);
}
void mnl_attr_put_u32(struct nlmsghdr* nlh, uint16_t type, uint32_t data) {
  mnl_attr_put(nlh, type, sizeof(data), &data);
}
void mnl_attr_put_u64(struct nlmsghdr* nlh, uint16_t type, uint64_t data) {
  mnl_attr_put(nlh, type, sizeof(data), &data);
}
void mnl_attr_put_str(struct nlmsghdr* nlh, uint16_t type, const char* data) {
  mnl_attr_put(nlh, type, std::strlen(data), data);
}
void mnl_attr_put_strz(struct nlmsghdr* nlh, uint16_t type, const char* data) {
  mnl_attr_put(nlh, type, std::strlen(data) + 1, data);
}

// The _check variants add nothing and return false when the attribute would not fit in `buflen`.
bool mnl_attr_put_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, size_t len, const void* data) {
  if (nlh->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(len) > buflen) return false;
  mnl_attr_put(nlh, type, len, data);
  return true;
}
bool mnl_attr_put_u8_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, uint8_t data) {
  return mnl_attr_put_check(nlh, buflen, type, sizeof(data), &data);
}
bool mnl_attr_put_u16_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, uint16_t data) {
  return mnl_attr_put_check(nlh, buflen, type, sizeof(data), &data);
}
bool mnl_attr_put_u32_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, uint32_t data) {
  return mnl_attr_put_check(nlh, buflen, type, sizeof(data), &data);
}
bool mnl_attr_put_u64_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, uint64_t data) {
  return mnl_attr_put_check(nlh, buflen, type, sizeof(data), &data);
}
bool mnl_attr_put_str_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, const char* data) {
  return mnl_attr_put_check(nlh, buflen, type, std::strlen(data), data);
}
bool mnl_attr_put_strz_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type, const char* data) {
  return mnl_attr_put_check(nlh, buflen, type, std::strlen(data) + 1, data);
}

// A nest is an attribute header whose length is set by nest_end, once its content is in.
struct nlattr* mnl_attr_nest_start(struct nlmsghdr* nlh, uint16_t type) {
  auto* start = static_cast<struct nlattr*>(mnl_nlmsg_get_payload_tail(nlh));
  start->nla_type = NLA_F_NESTED | type;
  nlh->nlmsg_len += MNL_ALIGN(sizeof(struct nlattr));
  return start;
}

struct nlattr* mnl_attr_nest_start_check(struct nlmsghdr* nlh, size_t buflen, uint16_t type) {
  if (nlh->nlmsg_len + MNL_ATTR_HDRLEN > buflen) return nullptr;
  return mnl_attr_nest_start(nlh, type);
}

void mnl_attr_nest_end(struct nlmsghdr* nlh, struct nlattr* start) {
  start->nla_len = static_cast<uint16_t>(static_cast<char*>(mnl_nlmsg_get_payload_tail(nlh)) - bytes(start));
}

void mnl_attr_nest_cancel(struct nlmsghdr* nlh, struct nlattr* start) {
  nlh->nlmsg_len -= static_cast<uint32_t>(static_cast<char*>(mnl_nlmsg_get_payload_tail(nlh)) - bytes(start));
}
