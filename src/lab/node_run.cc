// run_in_node: a command inside a node, with a deadline, logged to the node's
// log file rather than piped: a daemon it starts may keep inherited pipes open
// forever, but must not keep us waiting.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "env/files.h"
#include "lab/names.h"
#include "lab/node_namespaces.h"

namespace vcube::lab {
namespace {

constexpr size_t log_excerpt_bytes_max = 2000;

off_t file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

std::string log_since(const std::string& path, off_t offset) {
  auto text = env::read_file(path);
  if (!text || static_cast<off_t>(text->size()) <= offset)
    return "(no output)";
  std::string tail = text->substr(static_cast<size_t>(offset));
  if (tail.size() > log_excerpt_bytes_max)
    tail = "..." + tail.substr(tail.size() - log_excerpt_bytes_max);
  while (!tail.empty() && tail.back() == '\n')
    tail.pop_back();
  return tail;
}

[[noreturn]] void exec_in_child(const std::vector<std::string>& argv, const std::string& log,
                                const std::string& line) {
  setsid();
  int null_fd = open("/dev/null", O_RDONLY);
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  dup2(null_fd, 0);
  dup2(log_fd, 1);
  dup2(log_fd, 2);
  dprintf(1, "$ %s\n", line.c_str());
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  dprintf(2, "cannot execute %s: %s\n", args[0], strerror(errno));
  _exit(127);
}

// Waits for `pid` until `timeout`; -1 and SIGKILL when it passes.
int wait_with_deadline(pid_t pid, std::chrono::milliseconds timeout) {
  // glibc 2.36's <sys/pidfd.h> lacks extern "C"; call the system call directly.
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  pollfd p{fd, POLLIN, 0};
  int ready = fd >= 0 ? poll(&p, 1, static_cast<int>(timeout.count())) : 1;
  if (ready == 0)
    kill(pid, SIGKILL);
  if (fd >= 0)
    close(fd);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (ready == 0)
    return -1;
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

}  // namespace

status run_in_node(int k, const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  std::string log = node_log_file(k);
  off_t before = file_size(log);
  auto full = node_command_prefix(k);
  full.insert(full.end(), argv.begin(), argv.end());
  std::string line;
  for (const auto& a : argv)
    line += (line.empty() ? "" : " ") + a;
  pid_t pid = fork();
  if (pid < 0)
    return make_error(errc::internal, std::string("fork: ") + strerror(errno));
  if (pid == 0)
    exec_in_child(full, log, line);
  int code = wait_with_deadline(pid, timeout);
  if (code == -1) {
    return make_error(errc::timeout, node_name(k) + ": `" + line + "` gave no result within " +
                                         std::to_string(timeout.count() / 1000) + " s; log " + log +
                                         ":\n" + log_since(log, before));
  }
  if (code != 0) {
    return make_error(errc::internal, node_name(k) + ": `" + line + "` failed (exit " +
                                          std::to_string(code) + "); log " + log + ":\n" +
                                          log_since(log, before));
  }
  return ok_status();
}

}  // namespace vcube::lab
