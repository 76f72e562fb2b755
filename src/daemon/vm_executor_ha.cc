// The executor's HA follower: for every HA VM the manager placed on this node
// (an ha_vm record naming this node), make what runs here match the record,
// then report the record's epoch as settled (vm_status.ha_epoch). The manager
// moves a VM elsewhere only after that report, so the epoch is the handshake
// that keeps a VM from running on two nodes (docs/ha.md).
#include <spdlog/spdlog.h>

#include "common/time.h"
#include "daemon/vm_executor.h"

namespace vcube::daemon {

bool vm_executor::is_running(const std::string& name) const {
  auto it = vms_.find(name);
  if (it == vms_.end() || !it->second.process)
    return false;
  auto state = it->second.process->state();
  return state != qemu::vm_run_state::stopped && state != qemu::vm_run_state::crashed;
}

void vm_executor::follow_ha() {
  if (is_stopped_)
    return;
  const auto& state = ctx_.domain.state();
  for (const auto& record : state.list("ha_vm"))
    follow_one(record.name, record);
  // A VM the records do not place here must not run here: the manager may
  // already have started it elsewhere. Only for HA VMs (a non-HA VM runs
  // where its definition says).
  for (auto& [name, e] : vms_) {
    if (e.is_busy || !is_running(name))
      continue;
    auto record = state.get("ha_vm", name);
    auto vm = state.get("vm", name);
    bool is_ha = vm && vm->value.contains("ha");
    if (is_ha && record && record->value.value("node", "") != ctx_.node.name)
      asio::co_spawn(io_, ha_fence_local(name), asio::detached);
  }
}

void vm_executor::follow_one(const std::string& name, const domain::object& record) {
  if (record.value.value("node", "") != ctx_.node.name)
    return;
  auto vm = ctx_.domain.state().get("vm", name);
  if (!vm || vm->value.value("node", "") != ctx_.node.name || !vm->value.contains("ha"))
    return;
  entry& e = vms_[name];
  if (e.is_busy)
    return;  // act() calls follow_ha() again when it is done
  auto epoch = record.value.value("epoch", int64_t(0));
  bool wants_running = record.value.value("target", "") == "running";
  bool running = is_running(name);
  if (wants_running && running) {
    settle(name, epoch);
  } else if (wants_running && e.view.ha_epoch < epoch && ctx_.domain.writable()) {
    // Only while quorate and synced: a node cut off from the quorum may be
    // fenced any moment and its record may already be stale.
    // Busy now, not when the coroutine first runs: another follow_ha() may
    // come before it does, and must not start the VM a second time.
    e.is_busy = true;
    asio::co_spawn(io_, ha_start(name, epoch), asio::detached);
  } else if (!wants_running && running) {
    e.is_busy = true;
    asio::co_spawn(io_, ha_stop(name, epoch), asio::detached);
  } else if (!wants_running) {
    settle(name, epoch);
  }
  // Else: wanted running, not running, and this epoch is settled (the VM
  // stopped or failed to start under it): the manager decides what next.
}

void vm_executor::settle(const std::string& name, int64_t epoch) {
  entry& e = vms_[name];
  if (e.view.ha_epoch == epoch && !e.view.state.empty())
    return;
  if (e.view.state.empty())
    e.view = local_vm{"stopped", "", unix_now_s(), 0, false, "", 0};
  e.view.ha_epoch = epoch;
  request_report();
}

awaitable<void> vm_executor::ha_start(std::string name, int64_t epoch) {
  vms_[name].is_busy = true;
  request_report();  // busy: the report carries no settled epoch meanwhile
  spdlog::info("vm {}: HA start (epoch {})", name, epoch);
  auto started = co_await start_vm(name);
  entry& e = vms_[name];
  e.is_busy = false;
  if (!started) {
    spdlog::error("vm {}: HA start failed: {}", name, started.err().message);
    e.view = local_vm{
        "stopped", "start failed: " + started.err().message, unix_now_s(), 0, false, "", 0};
  }
  e.view.ha_epoch = epoch;
  release_if_gone(name);
  request_report();
  follow_ha();
}

awaitable<void> vm_executor::ha_stop(std::string name, int64_t epoch) {
  vms_[name].is_busy = true;
  request_report();
  spdlog::info("vm {}: HA stop (epoch {})", name, epoch);
  auto stopped = co_await shutdown_vm(name, ha_stop_timeout);
  if (!stopped) {
    spdlog::warn("vm {}: ACPI shutdown: {}; powering off", name, stopped.err().message);
    stopped = co_await power_off_vm(name);
    if (!stopped)
      spdlog::error("vm {}: power off: {}", name, stopped.err().message);
  }
  entry& e = vms_[name];
  e.is_busy = false;
  if (!is_running(name))
    e.view.ha_epoch = epoch;
  release_if_gone(name);
  request_report();
  follow_ha();
}

// The record places the VM on another node, yet it runs here: stop it hard,
// now. This is the executor's half of "never on two nodes at once".
awaitable<void> vm_executor::ha_fence_local(std::string name) {
  entry& e = vms_[name];
  if (e.is_busy)
    co_return;
  e.is_busy = true;
  spdlog::error("vm {}: runs here but the HA manager placed it elsewhere; powering it off", name);
  auto off = co_await power_off_vm(name);
  if (!off)
    spdlog::error("vm {}: power off: {}", name, off.err().message);
  vms_[name].is_busy = false;
  release_if_gone(name);
  request_report();
}

}  // namespace vcube::daemon
