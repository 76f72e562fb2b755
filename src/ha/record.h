// Small operations on one vm_record that keep its protocol: every change of
// the executor's command (node, target_running) is a new epoch, and the
// "known to run nowhere" predicates the safety rule rests on.
#pragma once

#include <string>

#include "ha/core.h"
#include "ha/view.h"

namespace vcube::ha {

// A new command for the executor of `node`: bumps the epoch.
void command(vm_record& r, const std::string& node, bool target_running);
// Changes the state; since_ms moves only when the state does.
void set_state(vm_record& r, vm_state s, int64_t now_ms);

// The report of the record's node once its executor settled this epoch, or nullptr.
const vm_report* settled_report(const std::string& vm, const vm_record& r,
                                const cluster_view& view);
// The executor settled a stop of this epoch: the VM runs nowhere.
bool is_settled_stop(const std::string& vm, const vm_record& r, const cluster_view& view);
// States entered only once the VM was known to run nowhere, with
// target_running false, so no executor starts it while they last.
bool is_known_stopped(const vm_record& r);
// The VM may be running on r.node (so losing that node needs a fence).
bool may_run_on_node(const std::string& vm, const vm_record& r, const cluster_view& view);

}  // namespace vcube::ha
