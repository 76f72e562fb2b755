// Cross-object rules, checked by store::apply on the state a request would
// produce (so they are as deterministic as the state itself).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "domain/types.h"

namespace vcube::domain {

// Objects by name (pointers into `objects`, which must outlive the map).
inline std::map<std::string, const object*> by_name(const std::vector<object>& objects) {
  std::map<std::string, const object*> out;
  for (const auto& o : objects)
    out.emplace(o.name, &o);
  return out;
}

// Node ids and node addresses are unique (errc::conflict naming both nodes).
status check_nodes(const std::vector<object>& nodes);

// Every group a user lists exists. A group named in `removed_groups` that is
// still listed is "in use" (errc::conflict); any other missing group is
// errc::invalid_input on field "groups".
status check_user_groups(const std::vector<object>& users, const std::vector<object>& groups,
                         const std::set<std::string>& removed_groups);

// Enabled users whose own or group roles include admin.
size_t count_admins(const std::vector<object>& users, const std::vector<object>& groups);

// A vm_status state in which QEMU runs (and the VM may not run anywhere else).
inline bool is_vm_state_active(std::string_view state) {
  return state == "running" || state == "paused";
}

// The objects a request changes or removes, by kind; the VM rules look at them.
struct touched_objects {
  std::set<std::pair<std::string, std::string>> changed;  // (kind, name), puts and removes
  std::set<std::pair<std::string, std::string>> removed;

  bool is_changed(const std::string& kind, const std::string& name) const {
    return changed.count({kind, name}) > 0;
  }
  bool is_removed(const std::string& kind, const std::string& name) const {
    return removed.count({kind, name}) > 0;
  }
};

// On the state after a request (rules_vm.cc):
// - a VM's node and networks exist (invalid_input on "node" / "nics[i].network";
//   conflict "in use" when this request removed them);
// - MAC addresses are unique over all VMs (conflict on "nics[i].mac");
// - a changed VM fits its node: memory_mib and vcpus at most the node's
//   memory_mib and cpus when the node reports them (invalid_input);
// - a VM reported running or paused (by its vm_status before the request)
//   cannot be removed (conflict);
// - a changed vm_status belongs to an existing VM (invalid_input).
status check_vms(const std::vector<object>& vms, const std::vector<object>& vm_statuses,
                 const std::vector<object>& nodes, const std::vector<object>& networks,
                 const std::vector<object>& vm_statuses_before, const touched_objects& touched);

// On the state after a request (rules_ha.cc): the nodes that a VM's
// ha.preferred_node, a fence device's `nodes` and a changed ha_request name
// exist (invalid_input; conflict "in use" when this request removed them), and
// a changed ha_request's VM exists (not_found).
status check_ha(const std::vector<object>& vms, const std::vector<object>& fence_devices,
                const std::vector<object>& ha_requests, const std::vector<object>& nodes,
                const touched_objects& touched);

// On the state after a request (rules_esan.cc):
// - an eSAN disk's two nodes exist (conflict "holds" when this request removed
//   one); its port is unique over all disks (conflict);
// - a changed disk only grows, and keeps its nodes, port and generation;
// - a VM disk's `esan` names an existing disk (conflict "in use" when this
//   request removed it), used by no other VM (conflict), and a changed VM
//   (or disk) has the VM's node among the disk's nodes (invalid_input);
// - a changed esan_status belongs to an existing disk.
status check_esan(const std::vector<object>& disks, const std::vector<object>& disks_before,
                  const std::vector<object>& statuses, const std::vector<object>& vms,
                  const std::vector<object>& nodes, const touched_objects& touched);

}  // namespace vcube::domain
