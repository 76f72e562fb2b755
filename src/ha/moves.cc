#include "ha/moves.h"

#include "ha/placement.h"
#include "ha/record.h"

namespace vcube::ha {

void begin_move(decide_context& c, const vm_info& vm, vm_record& rec, const std::string& target) {
  command(rec, rec.node, false);
  set_state(rec, vm_state::moving, c.now_ms());
  rec.move_to = target;
  rec.message.clear();
  recharge(c, vm);
}

void move_if_misplaced(decide_context& c, const vm_info& vm, vm_record& rec) {
  if (vm.is_sticky) {
    return;  // bound to its node, standby or not
  }
  const node_info* node = c.view.node(rec.node);
  if (node != nullptr && node->mode == node_mode::standby) {
    if (auto target = choose_node(c, vm, vm.preferred_node, rec.node)) {
      begin_move(c, vm, rec, *target);
    } else {
      c.alerts.note("vm:" + vm.name, "warning", "cannot leave standby node: " + vm.name,
                    vm.name + " stays on " + rec.node +
                        ": no other node with room and a working fence device");
    }
    return;
  }
  if (!vm.preferred_node.empty() && vm.preferred_node != rec.node &&
      is_candidate(c, vm.preferred_node, vm)) {
    begin_move(c, vm, rec, vm.preferred_node);
  }
}

namespace {

// Why `request` cannot be carried out, or "" when it can.
std::string refusal(decide_context& c, const move_request& request) {
  const vm_info* vm = c.view.vm(request.vm);
  if (vm == nullptr || !vm->is_ha) {
    return "VM not HA";
  }
  if (vm->is_sticky) {
    return "sticky";
  }
  auto rec = c.next.vms.find(vm->name);
  if (rec == c.next.vms.end() || rec->second.state != vm_state::started) {
    return "VM not running";
  }
  const node_info* node = c.view.node(request.node);
  if (node == nullptr) {
    return "no such node";
  }
  if (request.node == rec->second.node) {
    return "already running there";
  }
  return unfit_reason(c, *node, *vm);
}

}  // namespace

void answer_move_requests(decide_context& c) {
  for (const move_request& request : c.view.in().move_requests) {
    std::string why_not = refusal(c, request);
    if (why_not.empty()) {
      begin_move(c, *c.view.vm(request.vm), c.next.vms.at(request.vm), request.node);
    }
    c.actions.emplace_back(answer_move{request.vm, why_not.empty(), why_not});
  }
}

}  // namespace vcube::ha
