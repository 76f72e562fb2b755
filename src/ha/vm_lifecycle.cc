#include "ha/vm_lifecycle.h"

#include "ha/check.h"
#include "ha/fencing_policy.h"
#include "ha/moves.h"
#include "ha/placement.h"
#include "ha/record.h"
#include "ha/restart_policy.h"

namespace vcube::ha {
namespace {

const char* const no_room_message = "no node with room and a working fence device";
const char* const two_node_split_message =
    "the other node is lost and not fenced yet: it may start this VM too";

// Precondition: the VM runs nowhere. Starts it on the best node, or leaves it
// waiting (recovering, or sticky_down for a VM bound to its node).
// Where an administrator's start should put the VM: its preferred node, else
// the node its definition names (where it was created or last ran).
const std::string& start_hint(const vm_info& vm) {
  return vm.preferred_node.empty() ? vm.node : vm.preferred_node;
}

void place(decide_context& c, const vm_info& vm, vm_record& rec, const std::string& preferred) {
  if (!is_start_safe(c)) {
    if (rec.target_running) {
      command(rec, rec.node, false);
    }
    set_state(rec, vm_state::recovering, c.now_ms());
    rec.message = two_node_split_message;
    recharge(c, vm);
    return;
  }
  if (auto node = choose_node(c, vm, preferred)) {
    command(rec, *node, true);
    set_state(rec, vm_state::starting, c.now_ms());
    rec.message.clear();
  } else {
    if (rec.target_running) {
      command(rec, rec.node, false);
    }
    if (vm.is_sticky) {
      set_state(rec, vm_state::sticky_down, c.now_ms());
      const node_info* node = c.view.node(vm.node);
      rec.message = "waiting for node " + vm.node +
                    (node == nullptr ? "" : " (" + unfit_reason(c, *node, vm) + ")");
    } else {
      set_state(rec, vm_state::recovering, c.now_ms());
      rec.message = no_room_message;
    }
  }
  recharge(c, vm);
}

// The settled report says the VM is not running although it should: start it
// again on the same node, unless that exceeds the restart limit.
void restart(decide_context& c, const vm_info& vm, vm_record& rec, const vm_report& report) {
  rec.restarts_ms = restarts_in_window(rec.restarts_ms, c.now_ms(), c.config.restart_window_ms);
  if (!is_restart_allowed(c.config, rec.restarts_ms)) {
    command(rec, rec.node, false);
    set_state(rec, vm_state::error, c.now_ms());
    rec.message = "restart limit reached: " + vm.name;
  } else {
    rec.restarts_ms.push_back(c.now_ms());
    command(rec, rec.node, true);
    set_state(rec, vm_state::starting, c.now_ms());
    rec.message = report.reason;
  }
  recharge(c, vm);
}

// The administrator wants it stopped.
void stop(decide_context& c, const vm_info& vm, vm_record& rec) {
  if (is_known_stopped(rec)) {
    set_state(rec, vm_state::stopped, c.now_ms());
    rec.restarts_ms.clear();  // an administrator's stop clears the restart history
  } else {
    command(rec, rec.node, false);
    set_state(rec, vm_state::stopping, c.now_ms());
  }
  rec.message.clear();
  recharge(c, vm);
}

// Its node is lost and it may run there: wait for the fence, then release it.
// Returns whether that is the case.
bool hold_on_lost_node(decide_context& c, const vm_info& vm, vm_record& rec) {
  if (c.view.is_member(rec.node) || !may_run_on_node(vm.name, rec, c.view)) {
    return false;
  }
  HA_CHECK(c.next.fences.contains(rec.node));
  if (!is_fence_confirmed(c, rec.node)) {
    set_state(rec, vm_state::fence_wait, c.now_ms());
    return true;
  }
  command(rec, rec.node, false);  // powered off: it runs nowhere now
  if (vm.wants_running) {
    place(c, vm, rec, vm.preferred_node);
  } else {
    set_state(rec, vm_state::stopped, c.now_ms());
    recharge(c, vm);
  }
  return true;
}

void on_starting_or_started(decide_context& c, const vm_info& vm, vm_record& rec) {
  if (!vm.wants_running) {
    stop(c, vm, rec);
    return;
  }
  const vm_report* report = settled_report(vm.name, rec, c.view);
  if (report == nullptr) {
    return;  // the executor has not acted on this epoch yet
  }
  if (!is_active(report->state)) {
    restart(c, vm, rec, *report);
    return;
  }
  if (rec.state == vm_state::starting) {
    set_state(rec, vm_state::started, c.now_ms());
    rec.message.clear();
  }
  move_if_misplaced(c, vm, rec);
}

// stopping and moving: the VM runs nowhere once the stop is settled.
void on_stop_pending(decide_context& c, const vm_info& vm, vm_record& rec) {
  if (!is_settled_stop(vm.name, rec, c.view)) {
    return;
  }
  if (vm.wants_running) {
    place(c, vm, rec, rec.state == vm_state::moving ? rec.move_to : vm.preferred_node);
  } else {
    set_state(rec, vm_state::stopped, c.now_ms());
    rec.restarts_ms.clear();
    recharge(c, vm);
  }
}

// Its node is a member again (or its stop settled) before any fence was
// confirmed: the VM never ran elsewhere, so it resumes where it was.
void on_fence_cancelled(decide_context& c, const vm_info& vm, vm_record& rec) {
  if (!rec.target_running) {
    set_state(rec, vm_state::stopping, c.now_ms());
    on_stop_pending(c, vm, rec);
    return;
  }
  set_state(rec, vm_state::starting, c.now_ms());
  on_starting_or_started(c, vm, rec);
}

// A report settled an epoch newer than the record, or settled this epoch as
// running although the record says stop: the record lost a write (a two-node
// merge drops one side's changes, docs/domain.md) and its epoch number was
// used for another command. Executors act only on epochs above what they
// settled, so the command is issued again above that epoch; where the report
// says the VM runs, the record follows it.
void repair_lost_write(decide_context& c, const vm_info& vm, vm_record& rec) {
  const vm_report* newest = nullptr;
  for (const vm_report* r : c.view.reports_of(vm.name)) {
    bool is_newer = r->ha_epoch > rec.epoch;
    bool is_contradiction = r->ha_epoch == rec.epoch && r->node == rec.node &&
                            !rec.target_running && is_active(r->state);
    if ((is_newer || is_contradiction) && (newest == nullptr || r->ha_epoch > newest->ha_epoch)) {
      newest = r;
    }
  }
  if (newest == nullptr) {
    return;
  }
  rec.epoch = newest->ha_epoch;
  if (is_active(newest->state) && newest->node != rec.node) {
    command(rec, newest->node, true);
    set_state(rec, vm_state::starting, c.now_ms());
  } else {
    command(rec, rec.node, rec.target_running);
  }
  recharge(c, vm);
}

void step_record(decide_context& c, const vm_info& vm, vm_record& rec) {
  repair_lost_write(c, vm, rec);
  if (hold_on_lost_node(c, vm, rec)) {
    return;
  }
  switch (rec.state) {
    case vm_state::stopped:
      if (vm.wants_running) {
        place(c, vm, rec, start_hint(vm));
      }
      return;
    case vm_state::starting:
    case vm_state::started:
      on_starting_or_started(c, vm, rec);
      return;
    case vm_state::moving:
      if (!vm.wants_running) {
        set_state(rec, vm_state::stopping, c.now_ms());
      }
      on_stop_pending(c, vm, rec);
      return;
    case vm_state::stopping:
      on_stop_pending(c, vm, rec);
      return;
    case vm_state::fence_wait:
      on_fence_cancelled(c, vm, rec);
      return;
    case vm_state::recovering:
    case vm_state::sticky_down:
    case vm_state::error:
      if (!vm.wants_running) {
        stop(c, vm, rec);
      } else if (rec.state != vm_state::error) {
        place(c, vm, rec, vm.preferred_node);
      }
      return;
  }
}

// An HA VM without a record: adopt it where a report says it runs, else start
// it (or stop it where it runs, if it is not wanted).
void step_new(decide_context& c, const vm_info& vm) {
  const vm_report* active = nullptr;
  for (const vm_report* r : c.view.reports_of(vm.name)) {
    if (is_active(r->state) && active == nullptr) {
      active = r;
    }
  }
  if (!vm.wants_running && active == nullptr) {
    return;
  }
  vm_record& rec = c.next.vms[vm.name];
  rec.since_ms = c.now_ms();
  if (active != nullptr) {
    command(rec, active->node, vm.wants_running);
    set_state(rec, vm.wants_running ? vm_state::starting : vm_state::stopping, c.now_ms());
    recharge(c, vm);
  } else {
    place(c, vm, rec, start_hint(vm));
  }
}

void note_alerts(decide_context& c, const vm_info& vm, const vm_record& rec) {
  if (rec.state == vm_state::error) {
    c.alerts.note("vm:" + vm.name, "critical", rec.message, vm.name + " is left stopped");
  } else if (rec.state == vm_state::recovering) {
    c.alerts.note("vm:" + vm.name, "critical", "cannot place " + vm.name, rec.message);
  } else if (rec.state == vm_state::sticky_down) {
    c.alerts.note("vm:" + vm.name, "warning", "sticky VM down: " + vm.name, rec.message);
  }
}

}  // namespace

void step_vm(decide_context& c, const vm_info& vm) {
  HA_CHECK(vm.is_ha);
  auto it = c.next.vms.find(vm.name);
  if (it == c.next.vms.end()) {
    step_new(c, vm);
    it = c.next.vms.find(vm.name);
  } else {
    step_record(c, vm, it->second);
  }
  if (it != c.next.vms.end()) {
    note_alerts(c, vm, it->second);
  }
}

}  // namespace vcube::ha
