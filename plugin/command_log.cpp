// The command log's line format, its settings, and the bounded, rotated append.
#include "command_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

namespace topo::plugin {

namespace {

using nlohmann::json;

constexpr unsigned long long kDefaultMaxBytes = 1ULL << 20;  // 1 MiB, and as much again in the .1 file

// error: failed commands only; info (the default): every command but VERSION, which runtimes call often
// and which changes nothing; debug: every command.
enum class Level { Error, Info, Debug };

struct Outcome {
  bool failed = false;
  int code = 0;
  std::string message;
};
Outcome g_outcome;  // one command per process
std::string g_notes;  // CommandLog::note, "; "-separated

struct Settings {
  std::string file;
  Level level = Level::Info;
  unsigned long long max_bytes = kDefaultMaxBytes;
};

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// A setting from the config's `key`, else the environment's `var`; a value of the wrong type is reported
// on stderr and ignored.
std::optional<std::string> string_setting(const json& config, const char* key, const char* var) {
  if (config.is_object() && config.contains(key)) {
    if (config[key].is_string()) return config[key].get<std::string>();
    std::cerr << "topocni: log: config key " << key << " must be a string; ignored\n";
  }
  return env(var);
}

Settings settings(const json& config) {
  Settings s;
  s.file = string_setting(config, "logFile", "TOPOCNI_LOG_FILE").value_or("");
  if (auto level = string_setting(config, "logLevel", "TOPOCNI_LOG_LEVEL")) {
    if (*level == "error") {
      s.level = Level::Error;
    } else if (*level == "info") {
      s.level = Level::Info;
    } else if (*level == "debug") {
      s.level = Level::Debug;
    } else {
      std::cerr << "topocni: log: logLevel '" << *level << "' is not error, info or debug; using info\n";
    }
  }
  std::optional<unsigned long long> max;
  if (config.is_object() && config.contains("logMaxBytes")) {
    if (config["logMaxBytes"].is_number_unsigned()) {
      max = config["logMaxBytes"].get<unsigned long long>();
    } else {
      std::cerr << "topocni: log: logMaxBytes must be a positive integer; ignored\n";
    }
  } else if (auto v = env("TOPOCNI_LOG_MAX_BYTES")) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(v->c_str(), &end, 10);
    if (end != nullptr && *end == '\0' && n > 0) {
      max = n;
    } else {
      std::cerr << "topocni: log: TOPOCNI_LOG_MAX_BYTES must be a positive integer; ignored\n";
    }
  }
  if (max && *max > 0) s.max_bytes = *max;
  return s;
}

std::string utc_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                     t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
}

// Values that may hold spaces are JSON strings, so each line splits on spaces into key=value fields.
std::string json_string(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

[[noreturn]] void sys_fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

namespace log_detail {

void append_rotating(const std::string& path, const std::string& line, unsigned long long max_bytes) {
  // Two rounds at most: one may find the file rotated (or rotate it) and reopen.
  for (int round = 0; round < 3; ++round) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) sys_fail("open " + path);
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    if (::flock(fd, LOCK_EX) != 0) sys_fail("lock " + path);
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) != 0) sys_fail("stat " + path);
    if (::stat(path.c_str(), &named) != 0 || named.st_ino != held.st_ino || named.st_dev != held.st_dev) {
      continue;  // rotated away while we waited for the lock
    }
    auto size = static_cast<unsigned long long>(held.st_size);
    if (size > 0 && size + line.size() > max_bytes && round < 2) {
      if (::rename(path.c_str(), (path + ".1").c_str()) != 0) sys_fail("rotate " + path);
      continue;
    }
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) sys_fail("write " + path);
      p += n;
      left -= static_cast<size_t>(n);
    }
    return;
  }
  throw std::system_error(EAGAIN, std::generic_category(), "the log kept being rotated: " + path);
}

}  // namespace log_detail

CommandLog::CommandLog(const std::string& stdin_text)
    : stdin_text_(stdin_text), start_(std::chrono::steady_clock::now()) {}

void CommandLog::failed(int code, const std::string& message) { g_outcome = {true, code, message}; }

void CommandLog::note(const std::string& message) { g_notes += (g_notes.empty() ? "" : "; ") + message; }

CommandLog::~CommandLog() {
  try {
    json config = json::parse(stdin_text_, nullptr, false);  // a discarded value when not JSON
    Settings s = settings(config);
    if (s.file.empty()) return;
    std::string command = env("CNI_COMMAND").value_or("-");
    if (s.level == Level::Error && !g_outcome.failed && g_notes.empty()) return;
    if (s.level == Level::Info && command == "VERSION" && !g_outcome.failed) return;

    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    std::string network = config.is_object() && config.contains("name") && config["name"].is_string()
                              ? config["name"].get<std::string>()
                              : "-";
    std::string attachment = fmt::format("{}/{}/{}", network, env("CNI_CONTAINERID").value_or("-"),
                                         env("CNI_IFNAME").value_or("-"));
    std::string result = g_outcome.failed ? fmt::format("result=error code={} msg={}", g_outcome.code,
                                                        json_string(g_outcome.message))
                                          : "result=ok";
    if (!g_notes.empty()) result += " notes=" + json_string(g_notes);
    // A command outside the spec's (refused, but logged) could hold anything: quote it then.
    bool plain =
        !command.empty() && command.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
    std::string line =
        fmt::format("{} attachment={} command={} duration_ms={:.3f} {}\n", utc_now(), json_string(attachment),
                    plain ? command : json_string(command), ms, result);
    log_detail::append_rotating(s.file, line, s.max_bytes);
  } catch (const std::exception& e) {
    std::cerr << "topocni: log: " << e.what() << " (the command's result is unaffected)\n";
  } catch (...) {
    std::cerr << "topocni: log: unknown error (the command's result is unaffected)\n";
  }
}

}  // namespace topo::plugin
