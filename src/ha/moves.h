// Moving a started HA VM by a clean restart elsewhere: towards its preferred
// node, away from a standby node, or where an administrator asked. The VM is
// first stopped on its node (state moving); only once that stop is settled is
// it started on the destination (vm_lifecycle).
#pragma once

#include <string>

#include "ha/context.h"

namespace vcube::ha {

// Starts moving `vm` (state started) to `target`.
void begin_move(decide_context& c, const vm_info& vm, vm_record& rec, const std::string& target);

// A started VM on a standby node moves to the best candidate; one away from
// its preferred node moves there when that node is a candidate.
void move_if_misplaced(decide_context& c, const vm_info& vm, vm_record& rec);

// Answers every pending move request exactly once (answer_move), in input order.
void answer_move_requests(decide_context& c);

}  // namespace vcube::ha
