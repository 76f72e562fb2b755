// decide(): the order of one decision. Its behaviour is described in
// docs/ha.md, "The decision core"; the parts live in one file each
// (fencing_policy, vm_lifecycle, moves, placement, restart_policy, alerts).
#include "ha/core.h"

#include "ha/alerts.h"
#include "ha/context.h"
#include "ha/fencing_policy.h"
#include "ha/memory_ledger.h"
#include "ha/moves.h"
#include "ha/placement.h"
#include "ha/view.h"
#include "ha/vm_lifecycle.h"

namespace vcube::ha {

output decide(const settings& settings, const state& current, const input& in) {
  cluster_view view(in);
  output out{current, {}};
  memory_ledger ledger;
  alert_book alerts;
  decide_context c{settings, view, out.next, out.actions, ledger, alerts};

  // A VM removed from the configuration, or no longer HA, is not ours to manage.
  std::erase_if(out.next.vms, [&](const auto& entry) {
    const vm_info* vm = view.vm(entry.first);
    return vm == nullptr || !vm->is_ha;
  });
  for (const vm_info& vm : in.vms) {
    recharge(c, vm);
  }
  // Fences first: a VM may leave a lost node only once the fence is confirmed,
  // and a confirmed result in this input releases its VMs in this decision.
  step_fences(c);
  answer_move_requests(c);
  for (const vm_info* vm : view.ha_vms_in_order()) {
    step_vm(c, *vm);
  }
  alerts.flush(in.now_ms, settings.alert_repeat_ms, out.next.alerted_ms, out.actions);
  return out;
}

const char* to_string(vm_state s) {
  switch (s) {
    case vm_state::stopped:
      return "stopped";
    case vm_state::starting:
      return "starting";
    case vm_state::started:
      return "started";
    case vm_state::stopping:
      return "stopping";
    case vm_state::moving:
      return "moving";
    case vm_state::fence_wait:
      return "fence_wait";
    case vm_state::recovering:
      return "recovering";
    case vm_state::sticky_down:
      return "sticky_down";
    case vm_state::error:
      return "error";
  }
  return "?";
}

const char* to_string(fence_state s) {
  switch (s) {
    case fence_state::requested:
      return "requested";
    case fence_state::failed:
      return "failed";
    case fence_state::confirmed:
      return "confirmed";
  }
  return "?";
}

}  // namespace vcube::ha
