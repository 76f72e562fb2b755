#include "qemu/accel_probe_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "qemu/accel_probe_payload.h"

namespace vcube::qemu {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::string_view internal_error_marker = "KVM internal error";
// After the marker QEMU prints the suberror detail and a register dump: wait
// this long for it before the kill, so the reason can quote it.
constexpr std::chrono::milliseconds internal_error_grace{200};

struct child_pipes {
  int out_fd = -1;
  int err_fd = -1;
};

result<int> start_child(const std::vector<std::string>& argv, child_pipes& pipes) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return make_error(errc::internal, std::string("pipe: ") + strerror(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return make_error(errc::internal, std::string("pipe: ") + strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close_range(3, ~0U, 0);  // inherit nothing but stdio
    signal(SIGPIPE, SIG_DFL);
    execvp(args[0], args.data());
    dprintf(2, "cannot execute %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return make_error(errc::internal, std::string("fork: ") + strerror(errno));
  }
  pipes = {out[0], err[0]};
  return static_cast<int>(pid);
}

// Reads what is available on one pipe; closes it (fd = -1) at end of file.
void drain(int& fd, std::string& into, std::size_t bytes_max) {
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    std::size_t room = bytes_max > into.size() ? bytes_max - into.size() : 0;
    into.append(buf, std::min(room, static_cast<std::size_t>(n)));
  } else if (n == 0 || errno != EINTR) {
    close(fd);
    fd = -1;
  }
}

// Collects output until both pipes close (QEMU exited), the deadline passes,
// or a KVM internal error has been reported for internal_error_grace.
void collect(child_pipes& pipes, accel_probe_run& run, clock_type::time_point deadline) {
  auto stop_at = deadline;
  while (pipes.out_fd >= 0 || pipes.err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_at - clock_type::now());
    if (left.count() <= 0)
      break;
    pollfd fds[2] = {{pipes.out_fd, POLLIN, 0}, {pipes.err_fd, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
      drain(pipes.out_fd, run.serial, serial_bytes_max);
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
      drain(pipes.err_fd, run.stderr_text, stderr_bytes_max);
    if (!run.internal_error && run.stderr_text.find(internal_error_marker) != std::string::npos) {
      run.internal_error = true;
      stop_at = std::min(deadline, clock_type::now() + internal_error_grace);
    }
  }
  run.timed_out = !run.internal_error && (pipes.out_fd >= 0 || pipes.err_fd >= 0);
}

void close_pipes(child_pipes& pipes) {
  if (pipes.out_fd >= 0)
    close(pipes.out_fd);
  if (pipes.err_fd >= 0)
    close(pipes.err_fd);
}

}  // namespace

std::vector<std::string> accel_probe_command(const std::string& qemu_binary,
                                             const std::string& accelerator,
                                             const std::string& cpu_model,
                                             const std::string& payload_path) {
  return {qemu_binary,
          "-nodefaults",
          "-no-user-config",
          "-machine",
          "q35",
          "-accel",
          accelerator,
          "-cpu",
          cpu_model,
          "-m",
          "64",
          "-smp",
          "1",
          "-display",
          "none",
          "-no-reboot",
          "-serial",
          "stdio",
          "-device",
          std::string(accel_probe_exit_device),
          "-bios",
          payload_path};
}

result<accel_probe_run> run_accel_probe_guest(const std::vector<std::string>& argv,
                                              std::chrono::milliseconds deadline) {
  auto started = clock_type::now();
  child_pipes pipes;
  auto pid = start_child(argv, pipes);
  if (!pid)
    return pid.err();
  accel_probe_run run;
  collect(pipes, run, started + deadline);
  bool killed = pipes.out_fd >= 0 || pipes.err_fd >= 0;
  if (killed)
    kill(*pid, SIGKILL);
  close_pipes(pipes);
  int wstatus = 0;
  while (waitpid(*pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  run.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started).count();
  if (!killed && WIFEXITED(wstatus))
    run.exit_code = WEXITSTATUS(wstatus);
  if (!killed && WIFSIGNALED(wstatus))
    run.term_signal = WTERMSIG(wstatus);
  if (run.exit_code == 127 && run.serial.empty())
    return make_error(errc::unavailable, "cannot run " + argv[0] + ": " + run.stderr_text);
  return run;
}

}  // namespace vcube::qemu
