#include "nft/context.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "topo/error.h"

namespace topo::nft {

namespace {
std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

Context::Context(unsigned output_flags) {
  ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx_) throw SystemError(ENOMEM, "nft_ctx_new");
  nft_ctx_output_set_flags(ctx_, output_flags);
  // Both streams are buffered: the CNI plugin's stdout carries its result JSON, so nft must never print
  // there, and errors belong in the exception we throw.
  if (nft_ctx_buffer_output(ctx_) != 0 || nft_ctx_buffer_error(ctx_) != 0) {
    nft_ctx_free(ctx_);
    throw SystemError(ENOMEM, "nft_ctx_buffer_output");
  }
}

Context::~Context() { nft_ctx_free(ctx_); }

Context::Result Context::try_run(const std::string& script) {
  Result r;
  r.ok = nft_run_cmd_from_buffer(ctx_, script.c_str()) == 0;
  // Each retrieval rewinds its buffer (libnftables(3)), so one context can run several scripts.
  r.output = nft_ctx_get_output_buffer(ctx_);
  r.error = trimmed(nft_ctx_get_error_buffer(ctx_));
  return r;
}

std::string Context::run(const std::string& script, const std::string& what) {
  Result r = try_run(script);
  if (!r.ok) throw SystemError(0, what + ": " + (r.error.empty() ? "nft failed without a message" : r.error));
  return std::move(r.output);
}

}  // namespace topo::nft

namespace topo::nft {

void Context::run_transaction(const std::string& script, const std::string& what) {
  int fd = memfd_create("topocni-nft", MFD_CLOEXEC);
  if (fd < 0) throw SystemError(errno, "memfd_create");
  size_t done = 0;
  while (done < script.size()) {
    ssize_t n = write(fd, script.data() + done, script.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      throw SystemError(err, "write nft transaction to memfd");
    }
    done += static_cast<size_t>(n);
  }
  const std::string path = fmt::format("/proc/self/fd/{}", fd);
  const bool ok = nft_run_cmd_from_filename(ctx_, path.c_str()) == 0;
  close(fd);
  nft_ctx_get_output_buffer(ctx_);  // rewind: nothing is printed without --echo, but keep the buffer clean
  std::string error = trimmed(nft_ctx_get_error_buffer(ctx_));
  if (ok) return;
  for (size_t at = error.find(path); at != std::string::npos; at = error.find(path, at))
    error.replace(at, path.size(), "transaction");
  throw SystemError(0, what + ": " + (error.empty() ? "nft failed without a message" : error));
}

}  // namespace topo::nft
