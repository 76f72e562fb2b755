#include "ha/placement.h"

#include <algorithm>
#include <set>

namespace vcube::ha {

std::string unfit_reason(const decide_context& c, const node_info& node, const vm_info& vm) {
  if (!node.is_member) {
    return "not a member";
  }
  if (node.mode == node_mode::standby) {
    return "standby";
  }
  if (!node.has_fence_device) {
    return "no fence device";
  }
  if (!vm.allowed_nodes.empty() && std::find(vm.allowed_nodes.begin(), vm.allowed_nodes.end(),
                                             node.name) == vm.allowed_nodes.end()) {
    return "no usable copy of its eSAN disks on this node";
  }
  if (node.memory_mib - c.ledger.used_mib(node.name, vm.name) < vm.memory_mib) {
    return "not enough memory";
  }
  return {};
}

bool is_candidate(const decide_context& c, const std::string& node, const vm_info& vm) {
  const node_info* n = c.view.node(node);
  return n != nullptr && unfit_reason(c, *n, vm).empty();
}

std::optional<std::string> choose_node(const decide_context& c, const vm_info& vm,
                                       const std::string& preferred, const std::string& except) {
  if (vm.is_sticky) {
    if (vm.node != except && is_candidate(c, vm.node, vm)) {
      return vm.node;
    }
    return std::nullopt;
  }
  if (!preferred.empty() && preferred != except && is_candidate(c, preferred, vm)) {
    return preferred;
  }
  // The node with the most free memory, among those with local copies of its
  // disks when one of them fits.
  const node_info* best = nullptr;
  bool is_best_local = false;
  int64_t best_free_mib = 0;
  for (const node_info* n : c.view.nodes_by_id()) {
    if (n->name == except || !unfit_reason(c, *n, vm).empty()) {
      continue;
    }
    bool is_local =
        std::find(vm.local_nodes.begin(), vm.local_nodes.end(), n->name) != vm.local_nodes.end();
    int64_t free_mib = n->memory_mib - c.ledger.used_mib(n->name, vm.name);
    if (best == nullptr || (is_local && !is_best_local) ||
        (is_local == is_best_local && free_mib > best_free_mib)) {
      best = n;
      is_best_local = is_local;
      best_free_mib = free_mib;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return best->name;
}

void recharge(decide_context& c, const vm_info& vm) {
  std::set<std::string> nodes;
  for (const vm_report* r : c.view.reports_of(vm.name)) {
    if (is_active(r->state)) {
      nodes.insert(r->node);
    }
  }
  auto rec = c.next.vms.find(vm.name);
  if (vm.is_ha && rec != c.next.vms.end()) {
    if (rec->second.target_running && !rec->second.node.empty()) {
      nodes.insert(rec->second.node);
    }
    if (rec->second.state == vm_state::moving) {
      nodes.insert(rec->second.move_to);
    }
  }
  c.ledger.charge(vm.name, vm.memory_mib, std::move(nodes));
}

}  // namespace vcube::ha
