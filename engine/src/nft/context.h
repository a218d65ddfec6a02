// An RAII libnftables context. Created per call, inside the target network namespace: libnftables opens its
// netlink socket in whatever namespace the thread is in when it first talks to the kernel.
#pragma once

#include <string>

struct nft_ctx;

namespace topo::nft {

class Context {
 public:
  // `output_flags` are NFT_CTX_OUTPUT_* (e.g. JSON | HANDLE for listings).
  explicit Context(unsigned output_flags = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  struct Result {
    bool ok{false};
    std::string output;  // what nft printed (listings)
    std::string error;   // nft's error text, e.g. "Error: ...\n<command>\n   ^^^^"
  };

  // Runs `script` as one nft input: libnftables sends all its commands in a single netlink batch, which the
  // kernel commits all or nothing (libnftables(3), nft(8) "-f").
  Result try_run(const std::string& script);

  // As try_run, but throws SystemError("<what>: <nft error>") on failure; returns the output.
  std::string run(const std::string& script, const std::string& what);

  // As run, for a multi-line transaction. nft 1.0.6 quotes the FIRST line of a buffer under any error (with
  // the right columns of the wrong line), so the script goes through a memfd and nft_run_cmd_from_filename,
  // which reports "transaction:<line>:<columns>: Error: ..." under the offending line. Still one batch.
  void run_transaction(const std::string& script, const std::string& what);

 private:
  nft_ctx* ctx_{nullptr};
};

}  // namespace topo::nft
