// Fencing of lost nodes: which nodes must be fenced, when a fence is asked for
// again, the two-node fence race, and what a fence result means.
#pragma once

#include <string>

#include "ha/context.h"

namespace vcube::ha {

// Applies fence results, forgets the fences of nodes that are members again,
// opens a fence for every lost node an HA VM may be running on, retries failed
// and stale ones, and emits the fence_node actions (node name order).
void step_fences(decide_context& c);

// `node` was powered off after every placement on it: its VMs run nowhere.
bool is_fence_confirmed(const decide_context& c, const std::string& node);

// Two-node clusters: whether a VM may be started now. Not while the peer is
// lost and unfenced: both sides are quorate in a split, and the peer's
// manager may start the same VM. Always true with 3+ nodes (a majority).
bool is_start_safe(const decide_context& c);

// Two-node clusters: how long this manager waits before fencing `lost`. The
// weaker side (lower sum of priority+1 over its running HA VMs; ties: the
// higher node id) waits, so the stronger side wins the power switch.
int64_t fence_race_delay_ms(const decide_context& c, const std::string& lost);

}  // namespace vcube::ha
