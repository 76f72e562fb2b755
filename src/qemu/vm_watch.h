// vm_watch: the live view of one QEMU process for vm_process: the state
// tracker fed by QMP, pid checks once QMP is gone, and change notifications.
// Shared (shared_ptr) between vm_process, its QMP handlers and the short
// exit-confirmation poll that may outlive vm_process; one executor thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "qemu/qmp_messages.h"
#include "qemu/vm_state.h"

namespace vcube::qemu {

// Called after every change of state or reason, on the executor.
using vm_change_handler = std::function<void(vm_run_state state, const std::string& reason)>;

class vm_watch : public std::enable_shared_from_this<vm_watch> {
 public:
  // How long after QMP's EOF the pid is polled until QEMU is confirmed gone.
  static constexpr std::chrono::milliseconds exit_confirm_limit{10000};
  static constexpr std::chrono::milliseconds pid_poll_interval{100};

  vm_watch(int pid, std::string pid_file) : pid_(pid), pid_file_(std::move(pid_file)) {}

  void on_event(const qmp_event& event);
  void on_query_status(std::string_view qemu_status);
  // QMP hit EOF: from now on the pid decides; polls it for exit_confirm_limit.
  void on_qmp_gone(asio::any_io_executor executor);
  // Checks the pid once QMP is drained (a SHUTDOWN event may still be unread
  // in the socket while the pid is already gone).
  void refresh();

  void set_on_change(vm_change_handler handler) { on_change_ = std::move(handler); }
  const vm_state_tracker& tracker() const { return tracker_; }
  int pid() const { return pid_; }

 private:
  template <class Step>
  void apply(Step step);
  static awaitable<void> confirm_exit(std::shared_ptr<vm_watch> self);

  int pid_;
  std::string pid_file_;
  vm_state_tracker tracker_;
  bool is_qmp_drained_ = false;
  vm_change_handler on_change_;
};

}  // namespace vcube::qemu
