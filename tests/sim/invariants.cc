// What must hold after every step, on the ground truth (the simulated QEMUs).
#include "tests/sim/world.h"

namespace vcube::sim {

void world::vm_started(const std::string& vm, const std::string& node) {
  note(vm + " running on " + node);
  auto lost = lost_on_.find(vm);
  if (lost != lost_on_.end() && lost->second != node && down_unfenced_.contains(lost->second)) {
    violations_.push_back(vm + " started on " + node + " while " + lost->second +
                          " (where it died) was not fenced");
  }
  lost_on_.erase(vm);  // its death is accounted for: it runs again
  running_[vm].insert(node);
  if (running_[vm].size() > 1) {
    violations_.push_back(vm + " runs on two nodes at once");
  }
}

void world::check_step() {
  std::map<std::string, int64_t> used_mib;
  for (const vm_def& v : vms_) {
    for (const std::string& node : running_[v.name]) {
      used_mib[node] += v.memory_mib;
    }
  }
  for (const node_def& d : nodes_) {
    if (used_mib[d.name] > d.memory_mib) {
      violations_.push_back(d.name + " runs VMs over its memory");
    }
  }
}

}  // namespace vcube::sim
