// vcubed: the vcube node daemon. One per node; see docs/ARCHITECTURE.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/paths.h"
#include "daemon/node_daemon.h"
#include "env/files.h"

namespace {

constexpr const char* log_file = "/var/log/vcube/vcubed.log";

// Forks into the background. The parent waits on `ready_fd` for the child's
// verdict (one byte: 0 = serving) and exits with it, so `vcubed` returns only
// when the daemon is up or has failed.
int daemonize(int& ready_fd) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0)
    return 1;
  pid_t pid = fork();
  if (pid < 0)
    return 1;
  if (pid > 0) {
    close(pipe_fds[1]);
    char verdict = 1;
    ssize_t n = read(pipe_fds[0], &verdict, 1);
    _exit(n == 1 ? verdict : 1);
  }
  close(pipe_fds[0]);
  setsid();
  if (fork() > 0)
    _exit(0);
  int null_fd = open("/dev/null", O_RDWR);
  dup2(null_fd, 0);
  dup2(null_fd, 1);
  dup2(null_fd, 2);
  ready_fd = pipe_fds[1];
  return 0;
}

// Bounds a shutdown: io.stop() if io.run() has not returned within the
// limit after arm(). disarm() ends the watch and joins its thread.
class shutdown_watchdog {
 public:
  void arm(vcube::asio::io_context& io) {
    if (thread_.joinable())
      return;
    thread_ = std::thread([this, &io] {
      std::unique_lock lock(mutex_);
      if (!is_done_cv_.wait_for(lock, limit_, [this] { return is_done_; }))
        io.stop();
    });
  }
  void disarm() {
    {
      std::lock_guard lock(mutex_);
      is_done_ = true;
    }
    is_done_cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

 private:
  static constexpr std::chrono::seconds limit_{8};  // above the API's 5 s stop bound
  std::mutex mutex_;
  std::condition_variable is_done_cv_;
  bool is_done_ = false;
  std::thread thread_;
};

void report_ready(int& ready_fd, char verdict) {
  if (ready_fd < 0)
    return;
  (void)!write(ready_fd, &verdict, 1);
  close(ready_fd);
  ready_fd = -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vcubed: the vcube node daemon"};
  bool is_foreground = false;
  std::string level = "info";
  app.add_flag("-f,--foreground", is_foreground, "stay in the foreground and log to stderr");
  app.add_option("--log-level", level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);

  int ready_fd = -1;
  if (!is_foreground && daemonize(ready_fd) != 0) {
    std::fprintf(stderr, "vcubed: cannot daemonize\n");
    return 1;
  }
  if (!is_foreground)
    (void)vcube::env::make_directories("/var/log/vcube", 0750);
  vcube::init_logging("vcubed", level, is_foreground, log_file);

  vcube::asio::io_context io(1);
  auto daemon = vcube::daemon::node_daemon::create(io);
  if (!daemon) {
    spdlog::error("cannot start: {}", daemon.err().message);
    std::fprintf(stderr, "vcubed: %s\n", daemon.err().message.c_str());
    report_ready(ready_fd, 1);
    return 1;
  }
  if (auto s = (*daemon)->start(); !s) {
    spdlog::error("cannot start: {}", s.err().message);
    report_ready(ready_fd, 1);
    return 1;
  }
  (void)vcube::env::write_file_atomic(vcube::paths::vcubed_pid, std::to_string(getpid()) + "\n");
  shutdown_watchdog watchdog;
  vcube::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec)
      return;
    spdlog::info("signal {} received", signal_number);
    watchdog.arm(io);
    vcube::asio::co_spawn(io, (*daemon)->stop(), vcube::asio::detached);
  });
  report_ready(ready_fd, 0);
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  watchdog.disarm();
  unlink(vcube::paths::vcubed_pid);
  spdlog::info("stopped");
  return 0;
}
