#include "cluster/corosync_service.h"

#include <signal.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "common/paths.h"
#include "env/files.h"
#include "env/process.h"

namespace vcube::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds tool_timeout{10000};
constexpr const char* corosync_pid_file = "/var/run/corosync.pid";
// How often to ask corosync whether it is up (or gone); each ask is a fork+exec.
constexpr milliseconds poll_interval{100};

// Polls `is_done` until it returns true or `deadline` passes.
template <class F>
bool wait_until(F is_done, milliseconds deadline) {
  auto end = steady_clock::now() + deadline;
  while (!is_done()) {
    if (steady_clock::now() >= end)
      return false;
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

// The daemon's pid from its pid file, or 0 when unknown.
int corosync_pid() {
  auto text = env::read_file(corosync_pid_file);
  if (!text)
    return 0;
  return std::atoi(text->c_str());
}

bool is_process_gone(int pid) {
  return pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH);
}

}  // namespace

status write_corosync_files(const std::string& conf_text, const std::string& authkey_bytes) {
  if (authkey_bytes.empty())
    return make_error(errc::invalid_input, "the corosync authkey is empty", "authkey");
  if (auto s = env::make_directories("/etc/corosync", 0755); !s)
    return s;
  if (auto s = env::make_directories("/var/log/corosync", 0750); !s)
    return s;
  if (auto s = env::write_file_atomic(paths::corosync_authkey, authkey_bytes, 0400); !s)
    return s;
  return env::write_file_atomic(paths::corosync_conf, conf_text, 0644);
}

std::string generate_authkey() {
  std::string key(corosync_authkey_bytes, '\0');
  size_t done = 0;
  while (done < key.size()) {
    ssize_t n = getrandom(key.data() + done, key.size() - done, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      std::abort();
    done += static_cast<size_t>(n);
  }
  return key;
}

bool is_corosync_running() {
  auto r = env::run({"corosync-cfgtool", "-s"}, {}, tool_timeout);
  return r && r->exit_code == 0;
}

status start_corosync(milliseconds deadline) {
  if (is_corosync_running())
    return ok_status();
  // corosync forks; the parent exits once the daemon is set up (or failed to
  // read its config, with the reason on stderr).
  if (auto r = env::run_checked({"corosync"}, {}, tool_timeout); !r)
    return r.err();
  if (!wait_until(is_corosync_running, deadline)) {
    return make_error(errc::timeout, "corosync started but did not answer within " +
                                         std::to_string(deadline.count()) +
                                         " ms; see /var/log/corosync/corosync.log");
  }
  return ok_status();
}

status reload_corosync() {
  if (auto r = env::run_checked({"corosync-cfgtool", "-R"}, {}, tool_timeout); !r)
    return r.err();
  return ok_status();
}

status stop_corosync(milliseconds deadline) {
  if (!is_corosync_running())
    return ok_status();
  int pid = corosync_pid();
  if (auto r = env::run_checked({"corosync-cfgtool", "-H", "--force"}, {}, tool_timeout); !r)
    return r.err();
  // Gone means the process has exited, not merely stopped answering.
  auto is_gone = [pid] { return !is_corosync_running() && is_process_gone(pid); };
  if (!wait_until(is_gone, deadline)) {
    return make_error(errc::timeout,
                      "corosync did not stop within " + std::to_string(deadline.count()) + " ms");
  }
  return ok_status();
}

}  // namespace vcube::cluster
