#include "env/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "env/files.h"

namespace vcube::env {
namespace {

std::vector<char*> to_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv)
    out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string describe(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv)
    s += (s.empty() ? "" : " ") + a;
  return s;
}

void append_bounded(std::string& to, const char* data, size_t size, size_t bytes_max) {
  if (to.size() < bytes_max)
    to.append(data, std::min(size, bytes_max - to.size()));
}

// Pumps stdin/stdout/stderr of a child until both outputs close or the deadline passes.
bool pump(int in_fd, int out_fd, int err_fd, const std::string& input, process_output& result,
          std::chrono::steady_clock::time_point deadline, size_t output_bytes_max) {
  size_t written = 0;
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    int n = poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        append_bounded(i == 0 ? result.out : result.err, buf, static_cast<size_t>(r),
                       output_bytes_max);
      } else if (r == 0 || errno != EINTR) {
        close(fds[i].fd);
        (i == 0 ? out_fd : err_fd) = -1;
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in_fd, input.data() + written, input.size() - written);
      if (w > 0)
        written += static_cast<size_t>(w);
      if (w < 0 || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0)
    close(in_fd);
  return true;
}

}  // namespace

result<process_output> run(const std::vector<std::string>& argv, const std::string& input,
                           std::chrono::milliseconds timeout) {
  run_limits limits;
  limits.timeout = timeout;
  return run(argv, input, limits);
}

result<process_output> run(const std::vector<std::string>& argv, const std::string& input,
                           const run_limits& limits) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    return make_error(errc::internal, std::string("pipe: ") + strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0)
    return make_error(errc::internal, std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    if (limits.is_process_group)
      setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    // Nothing else of ours is inherited: a daemonized child (QEMU) holding
    // vcubed's listening socket would keep the next vcubed from binding it.
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    auto args = to_argv(argv);
    execvp(args[0], args.data());
    dprintf(2, "cannot execute %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  // Also from the parent: the child may not have run setpgid yet when the
  // deadline passes, and kill(-pid) needs the group to exist.
  if (limits.is_process_group)
    setpgid(pid, pid);
  process_output output;
  bool finished = pump(in[1], out[0], err[0], input, output,
                       std::chrono::steady_clock::now() + limits.timeout, limits.output_bytes_max);
  if (!finished) {
    kill(limits.is_process_group ? -pid : pid, SIGKILL);
    close(out[0]);
    close(err[0]);
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    return make_error(errc::timeout, describe(argv) + ": no result within " +
                                         std::to_string(limits.timeout.count()) + " ms");
  }
  output.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return output;
}

result<std::string> run_checked(const std::vector<std::string>& argv, const std::string& input,
                                std::chrono::milliseconds timeout) {
  auto r = run(argv, input, timeout);
  if (!r)
    return r.err();
  if (r->exit_code != 0) {
    std::string detail = r->err.empty() ? r->out : r->err;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' '))
      detail.pop_back();
    return make_error(errc::internal, describe(argv) + " failed (exit " +
                                          std::to_string(r->exit_code) + "): " + detail);
  }
  return std::move(r->out);
}

result<int> spawn_detached(const std::vector<std::string>& argv, const std::string& log_file) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC))
    return make_error(errc::internal, "pipe failed");
  pid_t pid = fork();
  if (pid < 0)
    return make_error(errc::internal, std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    setsid();
    // Second fork: the daemon is not our child, so it is never left a zombie here.
    pid_t grandchild = fork();
    if (grandchild != 0) {
      if (grandchild > 0)
        (void)!write(ready[1], &grandchild, sizeof grandchild);
      _exit(grandchild > 0 ? 0 : 1);
    }
    int null_fd = open("/dev/null", O_RDWR);
    int log_fd =
        log_file.empty() ? null_fd : open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    dup2(null_fd, 0);
    dup2(log_fd >= 0 ? log_fd : null_fd, 1);
    dup2(log_fd >= 0 ? log_fd : null_fd, 2);
    close_range(3, ~0U, 0);  // see run(): inherit nothing but stdio
    signal(SIGPIPE, SIG_DFL);
    auto args = to_argv(argv);
    execvp(args[0], args.data());
    dprintf(2, "cannot execute %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(ready[1]);
  pid_t daemon_pid = -1;
  ssize_t n = read(ready[0], &daemon_pid, sizeof daemon_pid);
  close(ready[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (n != sizeof daemon_pid)
    return make_error(errc::internal, "could not start " + argv[0]);
  return static_cast<int>(daemon_pid);
}

bool is_live_stat(std::string_view stat, std::string_view command) {
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
  size_t open = stat.find('(');
  size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      close + 2 >= stat.size())
    return false;
  char state = stat[close + 2];
  bool is_command = command.empty() || stat.substr(open + 1, close - open - 1) == command;
  return is_command && state != 'Z' && state != 'X' && state != 'x';
}

bool is_process_alive(int pid, std::string_view command) {
  if (pid <= 0)
    return false;
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  return stat && is_live_stat(*stat, command);
}

}  // namespace vcube::env
