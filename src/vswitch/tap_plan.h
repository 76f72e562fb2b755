// The tap planner (pure): the `ip` commands that give NIC `nic_index` of a VM
// its tap device (tap_name(vm, nic_index); see names.h) on its network's
// bridge, up, with the network's MTU; and the commands that remove a VM's taps.
// Both are idempotent: an empty plan when the links are already right.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "vswitch/command.h"
#include "vswitch/links.h"
#include "vswitch/network.h"

namespace vcube::vswitch {

// invalid_input for a bad index or network; unavailable when the network's
// bridge does not exist on this node (plan_networks has not run, or refused
// it); conflict when a link with the tap's name exists and is no tap.
result<std::vector<command>> plan_tap(const std::string& vm, int nic_index, const network& net,
                                      const link_map& current);

// Deletes the taps of NICs 0..nics_per_vm_max-1 of `vm` that exist.
std::vector<command> plan_remove_taps(const std::string& vm, const link_map& current);

}  // namespace vcube::vswitch
