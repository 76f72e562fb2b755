#include "qemu/vm_process.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <optional>

#include "env/files.h"
#include "env/process.h"
#include "qemu/command_line.h"

namespace vcube::qemu {
namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
    text.pop_back();
  return text;
}

result<int> read_pid_file(const std::string& path) {
  auto text = env::read_file(path);
  if (!text)
    return make_error(errc::not_found, "no QEMU pid file " + path + ": " + text.err().message);
  std::string digits = trimmed(*text);
  int pid = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0)
    return make_error(errc::internal, "QEMU pid file " + path + " holds no pid: " + digits);
  return pid;
}

// /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
bool is_running_not_zombie(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size())
    return false;
  char state = text[paren + 2];
  return state != 'Z' && state != 'X';
}

bool command_line_names(int pid, const std::string& needle) {
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos)
      end = text.size();
    if (std::string_view(text).substr(start, end - start) == needle)
      return true;
    start = end + 1;
  }
  return false;
}

void remove_stale(const std::string& path) {
  ::unlink(path.c_str());  // absent is fine
}

result<std::vector<std::string>> prepare_launch(const vm_definition& vm,
                                                const vm_start_options& options) {
  auto argv = build_command_line(vm, command_line_options{options.binary});
  if (!argv)
    return argv.err();
  const run_paths paths = run_paths_in(vm.run_dir);
  if (auto made = env::make_directories(vm.run_dir, 0700); !made)
    return made.err();
  if (auto old = read_pid_file(paths.pid_file); old && is_qemu_alive(*old, paths.pid_file))
    return make_error(errc::conflict, "QEMU (pid " + std::to_string(*old) + ") already runs in " +
                                          vm.run_dir + "; attach to it or stop it first");
  remove_stale(paths.pid_file);
  remove_stale(paths.qmp_socket);
  remove_stale(paths.vnc_socket);
  return argv;
}

// QEMU exits from its foreground half once the daemon half has initialised;
// its status and stderr say whether the VM started. Blocking: runs on the
// launcher pool. std::nullopt is success (co_spawn wants a default-constructible value).
awaitable<std::optional<error>> launch(std::vector<std::string> argv,
                                       std::chrono::milliseconds timeout) {
  auto ran = env::run(argv, {}, timeout);
  if (!ran)
    co_return make_error(ran.err().code, "QEMU did not start: " + ran.err().message);
  if (ran->exit_code != 0) {
    std::string detail = trimmed(ran->err.empty() ? ran->out : ran->err);
    co_return make_error(errc::internal, "QEMU failed to start (exit " +
                                             std::to_string(ran->exit_code) + "): " + detail);
  }
  co_return std::nullopt;
}

// QEMU's start can block for long (opening images, an NBD server that does
// not answer): keep it off the caller's event loop. Threads: at most
// launches_in_parallel_max QEMUs initialise at once; more wait in the pool.
constexpr int launches_in_parallel_max = 2;
asio::thread_pool& launcher_pool() {
  static asio::thread_pool pool(launches_in_parallel_max);
  return pool;
}

}  // namespace

bool is_qemu_alive(int pid, const std::string& pid_file) {
  return pid > 0 && is_running_not_zombie(pid) && command_line_names(pid, pid_file);
}

vm_process::vm_process(std::string run_dir, int pid)
    : run_dir_(std::move(run_dir)),
      watch_(std::make_shared<vm_watch>(pid, run_paths_in(run_dir_).pid_file)) {}

vm_process::~vm_process() {
  watch_->set_on_change(nullptr);  // an exit-confirmation poll may outlive us
  if (qmp_)
    qmp_->close();  // QEMU keeps running
}

awaitable<result<std::unique_ptr<vm_process>>> vm_process::start(const vm_definition& vm,
                                                                 qmp_clock::time_point deadline,
                                                                 vm_start_options options) {
  auto argv = prepare_launch(vm, options);
  if (!argv)
    co_return argv.err();
  auto failed = co_await asio::co_spawn(
      launcher_pool(), launch(std::move(*argv), options.launch_timeout), use_awaitable);
  if (failed)
    co_return std::move(*failed);
  co_return co_await attach(vm.run_dir, deadline);
}

awaitable<result<std::unique_ptr<vm_process>>> vm_process::attach(std::string run_dir,
                                                                  qmp_clock::time_point deadline) {
  const run_paths paths = run_paths_in(run_dir);
  auto pid = read_pid_file(paths.pid_file);
  if (!pid)
    co_return pid.err();
  if (!is_qemu_alive(*pid, paths.pid_file))
    co_return make_error(errc::not_found, "no QEMU runs for " + run_dir + " (pid " +
                                              std::to_string(*pid) + " is gone)");
  std::unique_ptr<vm_process> vm(new vm_process(std::move(run_dir), *pid));
  if (auto connected = co_await vm->connect(deadline); !connected)
    co_return connected.err();
  if (auto queried = co_await vm->query_status(deadline); !queried)
    co_return queried.err();
  co_return vm;
}

awaitable<status> vm_process::connect(qmp_clock::time_point deadline) {
  qmp_client_handlers handlers;
  auto executor = co_await asio::this_coro::executor;
  handlers.on_event = [watch = watch_](const qmp_event& event) { watch->on_event(event); };
  handlers.on_gone = [watch = watch_, executor](const error&) { watch->on_qmp_gone(executor); };
  auto client = co_await qmp_client::connect(run_paths_in(run_dir_).qmp_socket, deadline,
                                             std::move(handlers));
  if (!client)
    co_return client.err();
  qmp_ = std::move(*client);
  co_return ok_status();
}

vm_run_state vm_process::state() {
  watch_->refresh();
  return watch_->tracker().state();
}

awaitable<result<std::string>> vm_process::query_status(qmp_clock::time_point deadline) {
  auto reply = co_await qmp_->execute("query-status", json::object(), deadline);
  if (!reply) {
    state();  // a dead QEMU shows as crashed/stopped, not only as a QMP error
    co_return reply.err();
  }
  std::string qemu_status = reply->value("status", "");
  watch_->on_query_status(qemu_status);
  co_return qemu_status;
}

awaitable<result<json>> vm_process::execute(std::string name, json arguments,
                                            qmp_clock::time_point deadline) {
  co_return co_await qmp_->execute(std::move(name), std::move(arguments), deadline);
}

awaitable<status> vm_process::simple_command(const char* name, qmp_clock::time_point deadline) {
  auto reply = co_await qmp_->execute(name, json::object(), deadline);
  if (!reply)
    co_return reply.err();
  co_return ok_status();
}

awaitable<status> vm_process::powerdown(qmp_clock::time_point deadline) {
  co_return co_await simple_command("system_powerdown", deadline);
}

awaitable<status> vm_process::reset(qmp_clock::time_point deadline) {
  co_return co_await simple_command("system_reset", deadline);
}

awaitable<status> vm_process::power_off(qmp_clock::time_point deadline) {
  co_return co_await simple_command("quit", deadline);
}

awaitable<status> vm_process::pause(qmp_clock::time_point deadline) {
  co_return co_await simple_command("stop", deadline);
}

awaitable<status> vm_process::resume(qmp_clock::time_point deadline) {
  co_return co_await simple_command("cont", deadline);
}

awaitable<status> vm_process::wait_until_gone(qmp_clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!watch_->tracker().is_gone()) {
    if (qmp_clock::now() >= deadline)
      co_return make_error(errc::timeout,
                           "QEMU (pid " + std::to_string(pid()) + ") still runs at the deadline");
    // Polling the pid: a daemonized QEMU is not our child, so nothing signals its exit.
    timer.expires_at(std::min(deadline, qmp_clock::now() + vm_watch::pid_poll_interval));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    state();
  }
  co_return ok_status();
}

}  // namespace vcube::qemu
