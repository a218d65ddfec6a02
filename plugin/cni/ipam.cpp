#include "cni/ipam.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "cni/cni.h"
#include "cni/host_local/host_local.h"
#include "cni/request.h"

extern char** environ;

namespace topo::cni {

using nlohmann::json;

namespace {

// What is kept of a delegated plugin's stdout (its result is a few hundred bytes; the cap bounds memory).
constexpr size_t kMaxOutput = 1 << 20;

// A file descriptor closed on scope exit.
struct Fd {
  int fd{-1};
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::string how_it_ended(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "ended";
}

}  // namespace

std::string ipam_type(const json& config) {
  auto it = config.find("ipam");
  if (it == config.end() || !it->is_object())
    throw Error(kInvalidConfig, "invalid network config: key 'ipam.type' is missing",
                "the template uses IPAM: 'ipam' must be an object naming the IPAM plugin in 'type'");
  auto type = it->find("type");
  if (type == it->end() || !type->is_string() || type->get<std::string>().empty())
    throw Error(kInvalidConfig, "invalid network config: key 'ipam.type' must be a non-empty string",
                type == it->end() ? "it is missing" : fmt::format("got {}", type->dump()));
  std::string t = type->get<std::string>();
  // Only a name in CNI_PATH: a path would run any program on the node.
  if (t.find('/') != std::string::npos || t == "." || t == ".." || t.find("..") != std::string::npos)
    throw Error(kInvalidConfig, "invalid network config: key 'ipam.type' must be a plugin name, not a path",
                fmt::format("got '{}'", t));
  return t;
}

bool ipam_needs_interface(const json& config) {
  auto ipam = config.find("ipam");
  if (ipam == config.end() || !ipam->is_object()) return false;
  auto type = ipam->find("type");
  return type != ipam->end() && type->is_string() && type->get<std::string>() == "dhcp";
}

std::string find_ipam_plugin(const std::string& type, const std::string& cni_path) {
  std::stringstream ss(cni_path);
  std::vector<std::string> searched;
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    searched.push_back(dir);
    std::string file = dir + "/" + type;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(file.c_str(), X_OK) == 0)
      return file;
  }
  throw Error(kInvalidConfig,
              fmt::format("invalid network config: key 'ipam.type': no IPAM plugin '{}' in CNI_PATH", type),
              searched.empty() ? "CNI_PATH is empty" : fmt::format("searched {}", fmt::join(searched, ", ")));
}

std::vector<std::string> delegated_environment(const std::string& command) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "CNI_COMMAND=", 12) != 0) out.emplace_back(*e);
  out.push_back("CNI_COMMAND=" + command);
  return out;
}

std::string run_delegated(const std::string& executable, const std::vector<std::string>& environment,
                          const std::string& stdin_text, std::chrono::milliseconds timeout) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0)
    throw Error(kIoFailure, "cannot run the IPAM plugin: pipe", std::strerror(errno));
  Fd in_read{in[0]}, in_write{in[1]};
  if (::pipe2(out, O_CLOEXEC) != 0)
    throw Error(kIoFailure, "cannot run the IPAM plugin: pipe", std::strerror(errno));
  Fd out_read{out[0]}, out_write{out[1]};
  std::vector<char*> argv = {const_cast<char*>(executable.c_str()), nullptr};
  std::vector<char*> envp;
  for (const std::string& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  // posix_spawn, not fork: glibc's runs the child on our memory until it execs (CLONE_VM|CLONE_VFORK), with
  // no copy of our page tables and no wait for the scheduler to run it. The pipes are close-on-exec; their
  // ends the plugin uses become its stdin and stdout. stderr stays ours: the plugin's diagnostics reach the
  // runtime's log as ours do.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = -1;
  int spawn_error = ::posix_spawn(&pid, executable.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0)
    throw Error(kIoFailure, "cannot run the IPAM plugin " + executable, std::strerror(spawn_error));
  in_read.reset();
  out_write.reset();
  // A plugin that exits without reading stdin must not kill us with SIGPIPE on the write below.
  struct sigaction ignore = {};
  struct sigaction old = {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  ::fcntl(in_write.fd, F_SETFL, O_NONBLOCK);
  std::string output;
  size_t written = 0;
  bool timed_out = false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (stdin_text.empty()) in_write.reset();
  // Write stdin and read stdout together: a config larger than the pipe's buffer would otherwise deadlock
  // against a plugin that writes before it has read everything.
  while (out_read.fd >= 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_read.fd, POLLIN, 0}, {in_write.fd, POLLOUT, 0}};
    int n = ::poll(fds, in_write.fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (in_write.fd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in_write.fd, stdin_text.data() + written, stdin_text.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) in_write.reset();  // it closed stdin: its business
      if (written == stdin_text.size()) in_write.reset();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t r = ::read(out_read.fd, buf, sizeof buf);
      if (r > 0) {
        if (output.size() < kMaxOutput)
          output.append(buf, static_cast<size_t>(std::min<size_t>(r, kMaxOutput - output.size())));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        out_read.reset();
      }
    }
  }
  ::sigaction(SIGPIPE, &old, nullptr);
  in_write.reset();
  out_read.reset();
  int status = 0;
  if (timed_out) {
    ::kill(pid, SIGKILL);  // the child we started, by its pid; never a group or a name
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw Error(kGeneric, fmt::format("the IPAM plugin {} did not finish within {} s and was killed",
                                      executable, timeout.count() / 1000.0));
  }
  // Its stdout closed: it has exited or is about to. Still bounded: what is left of the deadline, then a
  // kill. A pidfd turns readable when the child exits, so the wait ends then, not at the next tick of a
  // sleep loop (which cost up to a millisecond per call); the loop stays for kernels without pidfd_open.
  Fd exited{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR)
      throw Error(kIoFailure, "cannot wait for the IPAM plugin", std::strerror(errno));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      throw Error(kGeneric, fmt::format("the IPAM plugin {} did not finish within {} s and was killed",
                                        executable, timeout.count() / 1000.0));
    }
    if (exited.fd >= 0) {
      pollfd p = {exited.fd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    } else {
      ::usleep(1000);
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output;
  // SPEC: a failing plugin prints an error {code, msg, details} on stdout; it is passed through as it is.
  try {
    json e = json::parse(output);
    if (e.is_object() && e.contains("code") && e["code"].is_number_integer()) {
      std::string msg = e.contains("msg") && e["msg"].is_string() ? e["msg"].get<std::string>() : "";
      std::string details =
          e.contains("details") && e["details"].is_string() ? e["details"].get<std::string>() : "";
      throw Error(e["code"].get<int>(), msg, details);
    }
  } catch (const json::exception&) {
  }
  std::string shown = output.size() > 200 ? output.substr(0, 200) + "..." : output;
  throw Error(kGeneric,
              fmt::format("the IPAM plugin {} {} without a CNI error", executable, how_it_ended(status)),
              shown.empty() ? "" : "stdout: " + shown);
}

bool builtin_host_local(const json& config) {
  if (ipam_type(config) != "host-local") return false;
  auto it = config.find("builtinHostLocal");
  if (it == config.end() || it->is_null()) return true;
  if (!it->is_boolean())
    throw Error(kInvalidConfig, "invalid network config: key 'builtinHostLocal' must be true or false",
                fmt::format("got {}", it->dump()));
  return it->get<bool>();
}

namespace {

// One command of the built-in host-local, for the caller in CNI_* (the same variables the binary would read,
// as read_environment() checked them).
json run_builtin_host_local(const std::string& command, const json& config, const Environment& env) {
  host_local::Caller caller{env.container_id, env.ifname, env.args};
  if (command == "ADD") return host_local::add(config, caller);
  if (command == "CHECK") host_local::check(config, caller);
  else if (command == "DEL") host_local::del(config, caller);
  else if (command == "GC") host_local::gc(config, valid_attachments(config));
  else if (command == "STATUS") host_local::status(config);
  return nullptr;
}

}  // namespace

json run_ipam(const std::string& command, const json& config, const std::string& stdin_text,
              const Environment& env, std::chrono::milliseconds timeout) {
  if (builtin_host_local(config)) return run_builtin_host_local(command, config, env);
  std::string executable = find_ipam_plugin(ipam_type(config), env.path);
  std::string output = run_delegated(executable, delegated_environment(command), stdin_text, timeout);
  if (command != "ADD") return nullptr;
  json result;
  try {
    result = json::parse(output);
  } catch (const json::parse_error& e) {
    throw Error(kGeneric, fmt::format("the IPAM plugin {} answered ADD with no JSON result", executable),
                e.what());
  }
  try {
    return normalize_prev_result(result, "ipam result");
  } catch (const Error& e) {
    // Not the runtime's config that is wrong (7) but what the IPAM plugin answered.
    throw Error(kGeneric, fmt::format("the IPAM plugin {} answered ADD with a malformed result", executable),
                e.msg);
  }
}

}  // namespace topo::cni
