// Typed errors that say what and where. Only main()s catch them and turn them into CNI error JSON or a CLI
// message.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// A template refused the request with its own message (its `assert:` list): positioned at the assertion. The
// template says the input or the node is not one it can serve, so the plugin reports it as an invalid
// configuration (CNI code 7).
class TemplateAssertionError : public SpecError {
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

// No template of the name asked for: `searched` says where the library looked.
class TemplateNotFoundError : public Error {
 public:
  TemplateNotFoundError(std::string name_, std::string searched_)
      : Error("no template named '" + name_ + "'"), name(std::move(name_)), searched(std::move(searched_)) {}
  const std::string name, searched;
};

// A path that should be a network namespace is not one (a missing file, a regular file, a bind mount gone).
class NamespaceError : public Error {
 public:
  NamespaceError(std::string path_, const std::string& why)
      : Error("'" + path_ + "' is not a network namespace" + (why.empty() ? "" : ": " + why)), path(std::move(path_)) {}
  const std::string path;
};

// The kernel differs from what the template renders (CHECK): one line per difference.
class DriftError : public Error {
 public:
  explicit DriftError(std::vector<std::string> differences_)
      : Error(std::to_string(differences_.size()) + " object(s) differ from the template"),
        differences(std::move(differences_)) {}
  const std::vector<std::string> differences;
};

// A removal that kept going past failures (DEL, GC, destroy) could not remove everything: one line each.
// Whatever could be removed is gone, and the journal of what is left stays for the next try.
class IncompleteError : public Error {
 public:
  IncompleteError(const std::string& what, std::vector<std::string> failures_)
      : Error(what), failures(std::move(failures_)) {}
  const std::vector<std::string> failures;
};

// Anything else from the system (open, setns, nftables, /proc/sys).
class SystemError : public Error {
 public:
  SystemError(int err, const std::string& what);
  const int err;
};

}  // namespace topo
