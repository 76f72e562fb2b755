// A node's executor: follows the HA records of its own domain copy, acting
// once per epoch, and reports ha_epoch only when it has settled and is idle.
#include "tests/sim/world.h"

namespace vcube::sim {

void world::run_executor(const std::string& name, sim_node& n) {
  for (auto& [vm, e] : n.executor) {
    if (e.is_busy && now_ms_ >= e.done_ms) {
      finish(name, vm, e);
    }
  }
  for (const auto& [vm, r] : n.store.ha.vms) {
    if (r.node == name) {
      act(name, n, vm, r);
    }
  }
  // A VM running here that the copy does not assign here is shut down: the
  // executor runs only what is assigned to its node.
  for (const auto& [vm, nodes] : running_) {
    auto r = n.store.ha.vms.find(vm);
    executor_vm& e = n.executor[vm];
    if (nodes.contains(name) && !e.is_busy &&
        (r == n.store.ha.vms.end() || r->second.node != name)) {
      e.is_busy = true;
      e.is_starting = false;
      e.acting_epoch = e.handled_epoch;
      e.done_ms = now_ms_ + timing_.stop_latency_ms;
    }
  }
  for (const auto& [vm, r] : n.store.ha.vms) {
    if (r.node == name || running_[vm].contains(name)) {
      send_report(name, n, vm);
    }
  }
}

void world::act(const std::string& name, sim_node& n, const std::string& vm,
                const ha::vm_record& r) {
  executor_vm& e = n.executor[vm];
  if (e.is_busy || r.epoch <= e.handled_epoch) {
    return;
  }
  bool is_running = running_[vm].contains(name);
  if (r.target_running == is_running) {
    e.handled_epoch = r.epoch;
    return;
  }
  // Without quorum the copy may be stale (a node that just booted, or a
  // minority): starting from it could run a VM recovered elsewhere. Stops
  // are always safe.
  if (r.target_running && !is_quorate(name)) {
    return;
  }
  e.is_busy = true;
  e.is_starting = r.target_running;
  e.acting_epoch = r.epoch;
  e.done_ms = now_ms_ + (r.target_running ? timing_.start_latency_ms : timing_.stop_latency_ms);
}

void world::finish(const std::string& name, const std::string& vm, executor_vm& e) {
  e.is_busy = false;
  e.handled_epoch = e.acting_epoch;
  if (!e.is_starting) {
    if (running_[vm].erase(name) > 0) {
      note(vm + " stopped on " + name);
    }
    e.last_state = ha::run_state::stopped;
    e.last_reason = "host request";
    return;
  }
  int& failures = start_failures_[vm];
  if (failures > 0) {
    --failures;
    note(vm + " fails to start on " + name);
    e.last_state = ha::run_state::stopped;
    e.last_reason = "start failed: sim";
    return;
  }
  vm_started(vm, name);
  e.last_reason.clear();
}

void world::send_report(const std::string& name, sim_node& n, const std::string& vm) {
  executor_vm& e = n.executor[vm];
  ha::vm_report report;
  report.vm = vm;
  report.node = name;
  bool is_running = running_[vm].contains(name);
  report.state = is_running ? ha::run_state::running : e.last_state;
  report.reason = is_running ? "" : e.last_reason;
  auto current = n.store.reports.find(vm);
  // Busy: the epoch is not settled yet, so the last settled one is reported.
  report.ha_epoch = e.handled_epoch;
  if (e.is_busy && current != n.store.reports.end() && current->second.node == name) {
    report.ha_epoch = current->second.ha_epoch;
  }
  auto same = [&](const ha::vm_report& other) {
    return other.node == name && other.state == report.state && other.reason == report.reason &&
           other.ha_epoch == report.ha_epoch;
  };
  // Sent again while the copy does not show it: a report may be lost.
  bool is_resend = e.report_sent_ms >= 0 && same(e.last_sent);
  if ((current != n.store.reports.end() && same(current->second)) ||
      (is_resend && now_ms_ - e.report_sent_ms < 2000)) {
    return;
  }
  e.report_sent_ms = now_ms_;
  e.last_sent = report;
  if (rng_.chance(timing_.report_loss_percent)) {
    return;
  }
  messages_.push_back(report_message{now_ms_ + timing_.report_delay_ms, name, n.boot, report});
}

}  // namespace vcube::sim
