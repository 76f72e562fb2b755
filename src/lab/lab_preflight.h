// Checks before building a lab: root, valid options, no lab yet, a subnet
// that the host does not use.
#pragma once

#include "common/error.h"
#include "lab/lab.h"
#include "lab/subnet.h"

namespace vcube::lab {

status check_root();
// The parsed subnet when everything is fine (it must also stay apart from the
// VM segment, vm_segment.h).
result<ipv4_subnet> check_lab_options(const lab_options& options);
// conflict when any lab object (state file, namespace, link, directory) exists.
status check_no_lab();
// invalid_input naming --subnet when a host address or route overlaps `subnet`.
status check_subnet_unused(const ipv4_subnet& subnet);
// conflict when a host address or route overlaps the VM segment (vm_segment.h).
status check_vm_segment_unused();

}  // namespace vcube::lab
