// Where an HA VM may run. A candidate node is a member, online, covered by a
// fence device (so a VM there can be recovered if the node is lost), holds
// the VM's eSAN disks (when it has any) and has room: its memory minus what
// the ledger says others use there.
#pragma once

#include <optional>
#include <string>

#include "ha/context.h"

namespace vcube::ha {

// Why `node` cannot take `vm` ("not a member", "standby", ...), or "" if it can.
std::string unfit_reason(const decide_context& c, const node_info& node, const vm_info& vm);
bool is_candidate(const decide_context& c, const std::string& node, const vm_info& vm);

// The node to start `vm` on: a sticky VM only on vm.node; else `preferred` if
// it is a candidate; else the candidate with the most free memory (ties: the
// lower node id). `except` is never chosen (the node being left).
std::optional<std::string> choose_node(const decide_context& c, const vm_info& vm,
                                       const std::string& preferred,
                                       const std::string& except = {});

// Recomputes what `vm` uses in the ledger from its record (if any) and reports.
void recharge(decide_context& c, const vm_info& vm);

}  // namespace vcube::ha
