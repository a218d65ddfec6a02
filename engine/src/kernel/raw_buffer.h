// A fixed-size byte buffer left uninitialised: receive and batch buffers of the netlink sockets.
#pragma once

#include <cstddef>
#include <memory>

namespace topo {

// The kernel writes every byte it hands back, and request builders zero what they reserve. Zero-filling the
// buffer up front (what std::vector<char>(n) does) touches each of its pages for nothing: with 32–64 KiB per
// socket, and a few sockets per command, that was a measurable part of a DEL's CPU time.
class RawBuffer {
 public:
  explicit RawBuffer(size_t size) : bytes_(std::make_unique_for_overwrite<char[]>(size)), size_(size) {}

  char* data() { return bytes_.get(); }
  const char* data() const { return bytes_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_;
};

}  // namespace topo
