#include "ha/fencing_policy.h"

#include <algorithm>
#include <set>

#include "ha/check.h"
#include "ha/record.h"

namespace vcube::ha {
namespace {

// Lost nodes an HA VM may be running on: its record may still run there, or a
// report says it runs there.
std::set<std::string> nodes_needing_fence(const decide_context& c) {
  std::set<std::string> lost;
  for (const auto& [vm, rec] : c.next.vms) {
    if (!c.view.is_member(rec.node) && may_run_on_node(vm, rec, c.view)) {
      lost.insert(rec.node);
    }
  }
  bool runs_ha_vm_here = false;
  bool uses_lost_storage_here = false;
  for (const vm_report& r : c.view.in().reports) {
    const vm_info* vm = c.view.vm(r.vm);
    if (vm != nullptr && vm->is_ha && is_active(r.state) && !c.view.is_member(r.node)) {
      lost.insert(r.node);
    }
    runs_ha_vm_here = runs_ha_vm_here || (vm != nullptr && vm->is_ha && is_active(r.state) &&
                                          r.node == c.view.in().self);
    if (vm != nullptr && is_active(r.state) && r.node == c.view.in().self) {
      for (const std::string& node : vm->storage_nodes) {
        uses_lost_storage_here = uses_lost_storage_here || !c.view.is_member(node);
      }
    }
    // A VM running diskless on a member: a lost node of its disks may have
    // been serving them, and its peer takes over only once it is off.
    bool is_diskless = vm != nullptr && is_active(r.state) && c.view.is_member(r.node) &&
                       std::find(vm->storage_nodes.begin(), vm->storage_nodes.end(), r.node) ==
                           vm->storage_nodes.end();
    if (is_diskless) {
      for (const std::string& node : vm->storage_nodes) {
        if (!c.view.is_member(node)) {
          lost.insert(node);
        }
      }
    }
  }
  // Two-node split: the peer, also quorate, fences this node for its HA VMs;
  // this side must race it, or the side without VMs would always win. A
  // side that is to start an HA VM races too: the peer may start it as well
  // (is_start_safe). So does a side running any VM on an eSAN disk the
  // peer holds a copy of: its writes are held until the peer is off
  // (docs/esan.md, "Fencing").
  bool wants_a_start = false;
  for (const vm_info& vm : c.view.in().vms) {
    auto rec = c.next.vms.find(vm.name);
    wants_a_start = wants_a_start || (vm.is_ha && vm.wants_running &&
                                      (rec == c.next.vms.end() || !rec->second.target_running));
  }
  if (c.view.in().cluster_node_count == 2 &&
      (runs_ha_vm_here || wants_a_start || uses_lost_storage_here)) {
    for (const node_info* n : c.view.nodes_by_id()) {
      if (!c.view.is_member(n->name)) {
        lost.insert(n->name);
      }
    }
  }
  return lost;
}

void apply_results(decide_context& c) {
  for (const fence_result& r : c.view.in().fence_results) {
    auto it = c.next.fences.find(r.node);
    if (it == c.next.fences.end() || it->second.state == fence_state::confirmed) {
      continue;  // the node came back, or an earlier attempt already confirmed it
    }
    fence_record& f = it->second;
    if (r.is_confirmed) {
      f.state = fence_state::confirmed;
      f.message.clear();
    } else {
      f.state = fence_state::failed;
      f.message = r.message;
      f.next_attempt_ms = c.now_ms() + c.config.fence_retry_ms;
    }
  }
}

void attempt(decide_context& c, const std::string& name, fence_record& f) {
  const node_info* node = c.view.node(name);
  if (node == nullptr || !node->has_fence_device) {
    f.state = fence_state::failed;
    f.message = "no fence device for node " + name;
    f.next_attempt_ms = c.now_ms() + c.config.fence_retry_ms;
    return;
  }
  f.state = fence_state::requested;
  f.owner = c.view.in().self;
  f.attempt_ms = c.now_ms();
  f.message.clear();
  ++f.attempts;
  int64_t delay_ms = f.attempts == 1 ? fence_race_delay_ms(c, name) : 0;
  c.actions.emplace_back(fence_node{name, delay_ms});
}

// Whether an open fence must be asked for again now. Times in the future (the
// clock went back) are pulled to now so that a retry is late, never lost.
bool is_due(decide_context& c, fence_record& f) {
  int64_t now_ms = c.now_ms();
  switch (f.state) {
    case fence_state::requested:
      f.attempt_ms = std::min(f.attempt_ms, now_ms);
      return f.owner != c.view.in().self || now_ms - f.attempt_ms >= c.config.fence_timeout_ms;
    case fence_state::failed:
      f.next_attempt_ms = std::min(f.next_attempt_ms, now_ms + c.config.fence_retry_ms);
      return now_ms >= f.next_attempt_ms;
    case fence_state::confirmed:
      return false;
  }
  return false;
}

}  // namespace

void step_fences(decide_context& c) {
  apply_results(c);
  std::erase_if(c.next.fences, [&](const auto& entry) { return c.view.is_member(entry.first); });
  for (const std::string& name : nodes_needing_fence(c)) {
    if (!c.next.fences.contains(name)) {
      fence_record& f = c.next.fences[name];
      f.requested_ms = c.now_ms();
      attempt(c, name, f);
    }
  }
  // A fence opened just above is not due yet: its attempt (or retry) time is now.
  for (auto& [name, f] : c.next.fences) {
    if (is_due(c, f)) {
      attempt(c, name, f);
    }
    if (f.state == fence_state::failed) {
      c.alerts.note("fence:" + name, "critical", "fence failed: " + name, f.message);
    }
  }
}

bool is_fence_confirmed(const decide_context& c, const std::string& node) {
  auto it = c.next.fences.find(node);
  return it != c.next.fences.end() && it->second.state == fence_state::confirmed;
}

int64_t fence_race_delay_ms(const decide_context& c, const std::string& lost) {
  if (c.view.in().cluster_node_count != 2) {
    return 0;
  }
  const std::string& self = c.view.in().self;
  int64_t self_weight = 0;
  int64_t lost_weight = 0;
  for (const vm_report& r : c.view.in().reports) {
    const vm_info* vm = c.view.vm(r.vm);
    if (vm == nullptr || !vm->is_ha || !is_active(r.state)) {
      continue;
    }
    if (r.node == self) {
      self_weight += vm->priority + 1;
    } else if (r.node == lost) {
      lost_weight += vm->priority + 1;
    }
  }
  const node_info* self_node = c.view.node(self);
  const node_info* lost_node = c.view.node(lost);
  HA_CHECK(self_node != nullptr);
  bool is_weaker =
      self_weight < lost_weight ||
      (self_weight == lost_weight && lost_node != nullptr && self_node->id > lost_node->id);
  return is_weaker ? c.config.fence_race_delay_ms : 0;
}

bool is_start_safe(const decide_context& c) {
  if (c.view.in().cluster_node_count != 2) {
    return true;
  }
  for (const node_info* n : c.view.nodes_by_id()) {
    if (!c.view.is_member(n->name) && !is_fence_confirmed(c, n->name)) {
      return false;
    }
  }
  return true;
}

}  // namespace vcube::ha
