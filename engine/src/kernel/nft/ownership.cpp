#include "kernel/nft/ownership.h"

#include <libnftnl/udata.h>

#include <cerrno>
#include <cstdio>  // before libnftnl: its headers use FILE without including it
#include <memory>

#include "topo/error.h"

namespace topo::nft {

namespace {

int comment_cb(const nftnl_udata* attr, void* data) {
  // NFTNL_UDATA_TABLE_COMMENT == NFTNL_UDATA_CHAIN_COMMENT == 0.
  if (nftnl_udata_type(attr) != NFTNL_UDATA_TABLE_COMMENT) return 0;
  const uint8_t len = nftnl_udata_len(attr);
  const char* value = static_cast<const char*>(nftnl_udata_get(attr));
  // nft writes the comment with its NUL; accept one without, never read past the attribute.
  std::string text(value, len);
  if (!text.empty() && text.back() == '\0') text.pop_back();
  *static_cast<std::optional<std::string>*>(data) = std::move(text);
  return 0;
}

}  // namespace

std::string comment_userdata(std::string_view text) {
  std::unique_ptr<nftnl_udata_buf, void (*)(const nftnl_udata_buf*)> buf(nftnl_udata_buf_alloc(256),
                                                                         nftnl_udata_buf_free);
  const std::string z(text);
  if (!buf || !nftnl_udata_put_strz(buf.get(), NFTNL_UDATA_TABLE_COMMENT, z.c_str()))
    throw SystemError(ENOMEM, "nftables comment userdata");
  return std::string(static_cast<const char*>(nftnl_udata_buf_data(buf.get())),
                     nftnl_udata_buf_len(buf.get()));
}

std::optional<std::string> comment_of_userdata(const void* data, uint32_t len) {
  std::optional<std::string> comment;
  if (!data || len == 0 || nftnl_udata_parse(data, len, comment_cb, &comment) < 0) return std::nullopt;
  return comment;
}

}  // namespace topo::nft
