// cluster_view: read-only indexes over one decide() input (nodes, VMs and
// reports by name). It borrows the input, which must outlive it.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "ha/core.h"

namespace vcube::ha {

class cluster_view {
 public:
  // Checks the caller's preconditions: unique node names and ids, unique VM
  // names, one report per (VM, node), `self` a member node.
  explicit cluster_view(const input& in);

  const input& in() const { return in_; }
  const node_info* node(const std::string& name) const;  // nullptr if unknown
  const vm_info* vm(const std::string& name) const;      // nullptr if unknown
  bool is_member(const std::string& node) const;
  // The report `node` wrote about `vm`, or nullptr.
  const vm_report* report(const std::string& vm, const std::string& node) const;
  const std::vector<const vm_report*>& reports_of(const std::string& vm) const;

  // Every node, lowest id first (placement ties go to the lower id).
  const std::vector<const node_info*>& nodes_by_id() const { return nodes_by_id_; }
  // HA VMs in placement order: higher priority first, then name.
  const std::vector<const vm_info*>& ha_vms_in_order() const { return ha_vms_in_order_; }

 private:
  const input& in_;
  // Hash maps for lookups only: nothing iterates them, so their order cannot
  // leak into a decision.
  std::unordered_map<std::string, const node_info*> nodes_;
  std::unordered_map<std::string, const vm_info*> vms_;
  std::unordered_map<std::string, std::vector<const vm_report*>> reports_by_vm_;
  std::vector<const node_info*> nodes_by_id_;
  std::vector<const vm_info*> ha_vms_in_order_;
};

bool is_active(run_state s);  // running or paused: the VM uses its node

}  // namespace vcube::ha
