// Runs vcube-esand as a child process for interop tests and stops it after.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "env/process.h"

extern char** environ;

namespace vcube::esan::testing {

// A TCP port nothing listens on now on 127.0.0.1 (the kernel picks it; the
// window until a test's server binds it is short).
inline std::string free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0)
    a.sin_port = htons(27789);
  ::close(fd);
  return std::to_string(ntohs(a.sin_port));
}

// Whether a program is in PATH (tests skip, naming it, when it is not).
inline bool has_tool(const std::string& name) {
  auto r = env::run({"sh", "-c", "command -v " + name});
  return r && r->exit_code == 0;
}

// `vcube-esand --create-meta`: the metadata file of one side of a new,
// zeroed mirrored volume; "" or why it failed.
inline std::string create_meta(const std::string& meta_path, uint64_t size_bytes,
                               uint64_t generation, bool is_primary) {
  std::vector<std::string> argv = {
      VCUBE_ESAND_PATH, "--create-meta",           meta_path, "--size", std::to_string(size_bytes),
      "--generation",   std::to_string(generation)};
  if (is_primary)
    argv.push_back("--primary");
  auto r = env::run(argv);
  if (!r)
    return r.err().message;
  return r->exit_code == 0 ? "" : r->err;
}

// Polls `condition` until it holds or `limit` passes.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the condition
  }
  return true;
}

// Waits (bounded) until a unix socket accepts connections.
inline bool wait_for_socket(const std::string& path, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    const bool is_up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (is_up)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the condition
  }
  return false;
}

class esand_process {
 public:
  // `wrapper` comes first, e.g. {"ip", "netns", "exec", "NS"} (it must exec
  // esand in its own place, so that the pid is esand's).
  explicit esand_process(std::vector<std::string> args, const std::string& log_path,
                         std::vector<std::string> wrapper = {}) {
    std::vector<std::string> argv = std::move(wrapper);
    argv.push_back(VCUBE_ESAND_PATH);
    argv.push_back("--foreground");
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv)
      raw.push_back(a.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    if (posix_spawnp(&pid_, raw[0], &actions, nullptr, raw.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~esand_process() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);  // esand exits within its 5 s grace period
  }
  bool is_started() const { return pid_ > 0; }
  // SIGKILL, as a crash: nothing is flushed or said to the peer.
  void kill_now() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace vcube::esan::testing
