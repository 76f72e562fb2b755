#include "ha/record.h"

namespace vcube::ha {

void command(vm_record& r, const std::string& node, bool target_running) {
  r.node = node;
  r.target_running = target_running;
  ++r.epoch;
}

void set_state(vm_record& r, vm_state s, int64_t now_ms) {
  if (r.state != s) {
    r.state = s;
    r.since_ms = now_ms;
  }
  if (s != vm_state::moving) {
    r.move_to.clear();
  }
}

const vm_report* settled_report(const std::string& vm, const vm_record& r,
                                const cluster_view& view) {
  const vm_report* rep = view.report(vm, r.node);
  return rep != nullptr && rep->ha_epoch == r.epoch ? rep : nullptr;
}

bool is_settled_stop(const std::string& vm, const vm_record& r, const cluster_view& view) {
  const vm_report* rep = settled_report(vm, r, view);
  return !r.target_running && rep != nullptr && !is_active(rep->state);
}

bool is_known_stopped(const vm_record& r) {
  switch (r.state) {
    case vm_state::stopped:
    case vm_state::recovering:
    case vm_state::sticky_down:
    case vm_state::error:
      return true;
    default:
      return false;
  }
}

bool may_run_on_node(const std::string& vm, const vm_record& r, const cluster_view& view) {
  return !r.node.empty() && !is_known_stopped(r) && !is_settled_stop(vm, r, view);
}

}  // namespace vcube::ha
