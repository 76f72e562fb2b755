// vm_state: what a VM's QEMU process is doing, decided from what QMP and the
// process table tell us. Pure: the caller feeds events, query-status answers
// and "the process is gone"; no I/O, no time.
//
//   running <--STOP/RESUME--> paused
//      |  SHUTDOWN (either)        QEMU gone without SHUTDOWN --> crashed
//      v
//   shutting_down --QEMU gone--> stopped (reason from the SHUTDOWN event)
#pragma once

#include <string>
#include <string_view>

#include "qemu/qmp_messages.h"

namespace vcube::qemu {

enum class vm_run_state { running, paused, shutting_down, stopped, crashed };
const char* vm_run_state_name(vm_run_state state);

class vm_state_tracker {
 public:
  void on_event(const qmp_event& event);
  // The "status" field of a query-status reply ("running", "paused", ...).
  void on_query_status(std::string_view qemu_status);
  // The QEMU process no longer exists (or QMP hit EOF and the pid is gone).
  void on_qemu_gone();

  vm_run_state state() const { return state_; }
  // Why the VM is in this state: the SHUTDOWN reason ("guest-shutdown",
  // "host-qmp-quit", "host-signal", ...), QEMU's run state for paused
  // ("paused", "io-error", "guest-panicked", ...), or why it crashed.
  const std::string& reason() const { return reason_; }
  bool is_gone() const {
    return state_ == vm_run_state::stopped || state_ == vm_run_state::crashed;
  }

 private:
  vm_run_state state_ = vm_run_state::running;
  std::string reason_;
  bool has_shutdown_ = false;
};

}  // namespace vcube::qemu
