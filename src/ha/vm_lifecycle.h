// One HA VM's step in decide(): its record's state machine (docs/ha.md,
// "The decision core"). VMs are stepped in placement order, so a VM of higher
// priority gets room first.
#pragma once

#include "ha/context.h"

namespace vcube::ha {

void step_vm(decide_context& c, const vm_info& vm);

}  // namespace vcube::ha
