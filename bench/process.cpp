#include "process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

extern char** environ;  // POSIX: the process's environment, for setup commands

namespace bench {

namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string read_all(int fd) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

CallResult call(const std::string& exe, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  auto args = c_strings(argv);
  auto envp = c_strings(env);

  CallResult r;
  double start = now_ms();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    throw std::runtime_error("spawn " + exe + ": " + std::strerror(rc));
  }
  // Configs are a few KiB, well below a pipe's buffer: the write never waits for the child to read.
  size_t done = 0;
  while (done < input.size()) {
    ssize_t n = ::write(in[1], input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // the child exited without reading (EPIPE): its status says why
    done += static_cast<size_t>(n);
  }
  ::close(in[1]);
  r.out = read_all(out[0]);
  ::close(out[0]);
  // stderr is read after stdout: plugins write little there, far less than a pipe holds.
  r.err = read_all(err[0]);
  ::close(err[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.ms = now_ms() - start;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.maxrss_kb = ru.ru_maxrss;
  auto tv_ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  r.cpu_ms = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
  return r;
}

std::string must(const std::vector<std::string>& argv, const std::string& input) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::string exe = argv.at(0);
  if (exe.find('/') == std::string::npos) {
    for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
      if (::access((dir + exe).c_str(), X_OK) == 0) {
        exe = dir + exe;
        break;
      }
    }
  }
  CallResult r = call(exe, argv, env, input);
  if (r.status != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("setup command failed: " + cmd + ": " + r.out + r.err);
  }
  return r.out;
}

}  // namespace bench
