#include "topo/error.h"

#include <cstring>

#include <fmt/format.h>

namespace topo {

namespace {
std::string spec_what(const std::string& file, int line, int column, const std::string& path,
                      const std::string& message) {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}:{}", line, column);
  if (!path.empty()) where += fmt::format(": {}", path);
  return fmt::format("{}: {}", where, message);
}
}  // namespace

SpecError::SpecError(std::string file_, int line_, int column_, std::string path_, std::string message_)
    : Error(spec_what(file_, line_, column_, path_, message_)),
      file(std::move(file_)),
      path(std::move(path_)),
      message(std::move(message_)),
      line(line_),
      column(column_) {}

NetlinkError::NetlinkError(int err_, std::string operation_, std::string object_, std::string ext_ack_)
    : Error(fmt::format("{} {}: {}{}", operation_, object_, std::strerror(err_),
                        ext_ack_.empty() ? "" : " (kernel: " + ext_ack_ + ")")),
      err(err_),
      operation(std::move(operation_)),
      object(std::move(object_)),
      ext_ack(std::move(ext_ack_)) {}

SystemError::SystemError(int err_, const std::string& what)
    : Error(err_ ? fmt::format("{}: {}", what, std::strerror(err_)) : what), err(err_) {}

}  // namespace topo
