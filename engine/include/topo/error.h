// Typed errors that say what and where. Only main()s catch them and turn them into CNI error JSON or a CLI
// message.
#pragma once

#include <stdexcept>
#include <string>

namespace topo {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A template or config that is wrong: file, line, column and the YAML/JSON path of the offending key.
class SpecError : public Error {
 public:
  SpecError(std::string file, int line, int column, std::string path, std::string message);
  const std::string file, path, message;
  const int line, column;  // 1-based; 0 when unknown
};

// A `${ }` expression asked the host for a fact it could not give: host_addresses() of an interface that does
// not exist, or a facts provider that cannot look a route up. Positioned at the scalar like any SpecError,
// but the cause is the host rather than the template, so the plugin reports it as a conflict (CNI code 101),
// as it did the ConflictError it wraps.
class HostFactError : public SpecError {
 public:
  using SpecError::SpecError;
};

// What the caller asked for cannot be done without touching a foreign object, or a referenced object is
// missing (e.g. the host interface).
class ConflictError : public Error {
 public:
  using Error::Error;
};

// A netlink request the kernel refused: errno, the operation, the object, and the extended ACK text.
class NetlinkError : public Error {
 public:
  NetlinkError(int err, std::string operation, std::string object, std::string ext_ack);
  const int err;
  const std::string operation, object, ext_ack;
};

// A shared resource (the journal lock, a namespace's nftables table lock) stayed busy past its deadline: the
// runtime should try again later.
class BusyError : public Error {
 public:
  using Error::Error;
};

// Anything else from the system (open, setns, nftables, /proc/sys).
class SystemError : public Error {
 public:
  SystemError(int err, const std::string& what);
  const int err;
};

}  // namespace topo
