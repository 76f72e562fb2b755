#include "lab/lab_switch.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "env/files.h"
#include "env/process.h"
#include "lab/host_probe.h"
#include "lab/lab.h"
#include "lab/lab_preflight.h"
#include "lab/power_switch_server.h"

namespace vcube::lab {
namespace {

constexpr auto start_timeout = std::chrono::seconds(15);
constexpr auto stop_grace = std::chrono::seconds(5);
constexpr auto poll_interval = std::chrono::milliseconds(20);
constexpr auto reap_timeout = std::chrono::seconds(10);
constexpr std::size_t log_excerpt_chars_max = 2000;

int stop_pipe_write = -1;  // written by the signal handler

void request_stop(int) {
  char byte = 0;
  (void)!write(stop_pipe_write, &byte, 1);
}

// SIGTERM and SIGINT make the returned descriptor readable. A handler and a
// pipe rather than a blocked mask and sigwait: a mask would be inherited by
// the node daemons the switch boots (On), which must stay stoppable by SIGTERM.
result<int> catch_stop_signals() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return make_error(errc::internal, std::string("pipe: ") + strerror(errno));
  stop_pipe_write = fds[1];
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return fds[0];
}

// Whether pid runs `vcube lab switch` (not some process that reused the pid).
bool is_switch_process(int pid) {
  auto cmdline = env::read_file("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline && cmdline->ends_with(std::string("lab\0switch\0", 11)) &&
         env::is_process_alive(pid);
}

// lab_kill, then waits (bounded) until the killed processes are reaped: a
// zombie looks alive to `vcube service start`'s pid-file check, so an On soon
// after would not start vcubed. The host's init may take seconds to reap.
status power_off_node(int k) {
  auto pids = pids_in_namespace("/run/netns/" + netns_name(k), "net");
  for (int pid : pids_in_namespace(mount_ns_file(k), "mnt"))
    pids.push_back(pid);
  auto killed = lab_kill(k);
  if (!killed)
    return killed;
  auto deadline = std::chrono::steady_clock::now() + reap_timeout;
  for (int pid : pids) {
    while (env::file_exists("/proc/" + std::to_string(pid)) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(poll_interval);
  }
  return ok_status();
}

power_switch_config lab_switch_config(const lab_state& state) {
  power_switch_config config;
  for (int k = 1; k <= state.nodes; ++k)
    config.netns_paths.push_back("/run/netns/" + netns_name(k));
  config.port = state.switch_port;
  config.username = state.switch_username;
  config.password = state.switch_password;
  config.state_file = switch_state_file;
  config.power_off = power_off_node;
  config.power_on = lab_boot;
  config.log = &std::cout;
  return config;
}

std::string log_tail() {
  auto text = env::read_file(switch_log_file);
  if (!text || text->empty())
    return "(no output)";
  return text->size() > log_excerpt_chars_max ? text->substr(text->size() - log_excerpt_chars_max)
                                              : *text;
}

}  // namespace

status run_lab_switch() {
  auto root = check_root();
  if (!root)
    return root;
  auto state = read_lab_state();
  if (!state)
    return state.err();
  if (state->switch_password.empty())
    return make_error(errc::not_found, "no switch password in " + state->switch_password_file);
  auto stop_fd = catch_stop_signals();
  if (!stop_fd)
    return stop_fd.err();
  power_switch server(lab_switch_config(*state));
  auto started = server.start();
  if (!started)
    return started;
  auto written = env::write_file_atomic(switch_pid_file, std::to_string(getpid()) + "\n", 0600);
  if (!written)
    return written;
  char byte = 0;
  while (read(*stop_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  server.stop();
  std::remove(switch_pid_file);
  return ok_status();
}

std::optional<int> lab_switch_pid() {
  auto text = env::read_file(switch_pid_file);
  if (!text)
    return std::nullopt;
  int pid = std::atoi(text->c_str());
  if (pid <= 0 || !is_switch_process(pid))
    return std::nullopt;
  return pid;
}

status start_lab_switch(const lab_state& state) {
  auto pid = env::spawn_detached({state.vcube_exe, "lab", "switch"}, switch_log_file);
  if (!pid)
    return pid.err();
  auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (lab_switch_pid() == *pid)
      return ok_status();
    if (!env::is_process_alive(*pid))
      break;
    std::this_thread::sleep_for(poll_interval);
  }
  if (env::is_process_alive(*pid))
    kill(*pid, SIGKILL);
  return make_error(errc::internal, std::string("the lab power switch did not start; ") +
                                        switch_log_file + ":\n" + log_tail());
}

status stop_lab_switch() {
  auto pid = lab_switch_pid();
  if (!pid)
    return ok_status();
  kill(*pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + stop_grace;
  while (env::is_process_alive(*pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(poll_interval);
  if (env::is_process_alive(*pid))
    kill(*pid, SIGKILL);
  while (env::is_process_alive(*pid) && std::chrono::steady_clock::now() < deadline + stop_grace)
    std::this_thread::sleep_for(poll_interval);
  if (env::is_process_alive(*pid))
    return make_error(errc::internal,
                      "the lab power switch (pid " + std::to_string(*pid) + ") does not stop");
  std::remove(switch_pid_file);
  return ok_status();
}

}  // namespace vcube::lab
