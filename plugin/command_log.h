// The optional log file: one line per CNI command (time, attachment, command, duration, result), for
// operators, since runtimes often swallow a plugin's stderr. Set by the network config's `logFile`,
// `logLevel` and `logMaxBytes`, else by TOPOCNI_LOG_FILE, TOPOCNI_LOG_LEVEL and TOPOCNI_LOG_MAX_BYTES
// (docs/operations.md). Nothing about the log ever fails a command: its own errors go to stderr only.
#pragma once

#include <chrono>
#include <string>

namespace topo::plugin {

class CommandLog {
 public:
  // Starts the clock. `stdin_text` is read at destruction, when main has filled it with the config.
  explicit CommandLog(const std::string& stdin_text);
  // Writes the line (when a log file is set and the level lets it through).
  ~CommandLog();
  CommandLog(const CommandLog&) = delete;
  CommandLog& operator=(const CommandLog&) = delete;

  // The outcome of this process's command, when it failed (main's one error path calls it).
  static void failed(int code, const std::string& message);
  // Something an operator must hear about though the command went on (a damaged journal set aside): added
  // to the line as notes="...", and written at level error too.
  static void note(const std::string& message);

 private:
  const std::string& stdin_text_;
  std::chrono::steady_clock::time_point start_;
};

namespace log_detail {
// Appends `line` to `path`, first moving a file that would grow past `max_bytes` to `path`.1 (one rotated
// file is kept). Safe against concurrent plugins: the write and the rotation happen under flock(2) of the
// file, and a writer that locked a file just rotated away opens the new one. Throws std::system_error.
void append_rotating(const std::string& path, const std::string& line, unsigned long long max_bytes);
}  // namespace log_detail

}  // namespace topo::plugin
