#include "qemu/vm_state.h"

namespace vcube::qemu {

const char* vm_run_state_name(vm_run_state state) {
  switch (state) {
    case vm_run_state::running:
      return "running";
    case vm_run_state::paused:
      return "paused";
    case vm_run_state::shutting_down:
      return "shutting_down";
    case vm_run_state::stopped:
      return "stopped";
    case vm_run_state::crashed:
      return "crashed";
  }
  return "unknown";
}

void vm_state_tracker::on_event(const qmp_event& event) {
  if (is_gone())
    return;
  switch (event.kind) {
    case qmp_event_kind::shutdown:
      has_shutdown_ = true;
      state_ = vm_run_state::shutting_down;
      reason_ = event.reason.empty() ? "shutdown" : event.reason;
      return;
    case qmp_event_kind::stop:
      if (!has_shutdown_) {
        state_ = vm_run_state::paused;
        reason_ = "paused";
      }
      return;
    case qmp_event_kind::resume:
      if (!has_shutdown_) {
        state_ = vm_run_state::running;
        reason_.clear();
      }
      return;
    case qmp_event_kind::guest_panicked:
      if (!has_shutdown_ && event.action == "pause") {
        state_ = vm_run_state::paused;
        reason_ = "guest-panicked";
      }
      return;
    default:
      return;
  }
}

void vm_state_tracker::on_query_status(std::string_view qemu_status) {
  if (is_gone() || has_shutdown_)
    return;
  if (qemu_status == "running") {
    state_ = vm_run_state::running;
    reason_.clear();
  } else if (qemu_status == "shutdown") {
    // QEMU is on its way out (e.g. started with -no-shutdown); no SHUTDOWN event seen by us.
    has_shutdown_ = true;
    state_ = vm_run_state::shutting_down;
    reason_ = "shutdown";
  } else {
    state_ = vm_run_state::paused;
    reason_ = std::string(qemu_status);
  }
}

void vm_state_tracker::on_qemu_gone() {
  if (is_gone())
    return;
  if (has_shutdown_) {
    state_ = vm_run_state::stopped;
    return;  // keep the SHUTDOWN reason
  }
  state_ = vm_run_state::crashed;
  reason_ = "QEMU exited without a SHUTDOWN event (killed or crashed)";
}

}  // namespace vcube::qemu
