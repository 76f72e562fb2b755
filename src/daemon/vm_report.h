// vm_report: what this node tells the cluster about the VMs it runs, as
// vm_status objects in the domain. Pure: the executor passes its local view
// and the domain; the result is the write that makes the domain say what is
// true here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "domain/store.h"
#include "domain/types.h"

namespace vcube::daemon {

// One VM as this node sees it.
struct local_vm {
  std::string state;   // running | paused | stopped | crashed
  std::string reason;  // of the last stop: "guest shut down", "host request", "crash: ..."
  int64_t since = 0;   // unix seconds of the last state change
  int64_t started_at = 0;
  bool is_not_responding = false;  // an ACPI shutdown timed out
  std::string accel;               // kvm | tcg
  int64_t ha_epoch = 0;            // the HA record epoch settled here (docs/ha.md); 0: none
};

// The vm_status value for `vm` run by `node`.
json vm_status_value(const std::string& node, const local_vm& vm);

// QEMU's SHUTDOWN reasons and our crash reasons in words an operator reads:
// "guest-shutdown" → "guest shut down", "host-qmp-quit" → "host request", ...
std::string describe_stop_reason(const std::string& qemu_reason);

// The changes (with base_version) that make the domain's vm_status objects
// match `local` for this node:
// - a VM known here and in the domain whose status differs is put, unless it
//   is stopped here and the domain now assigns it to another node;
// - a status naming this node for a VM not known here that says running or
//   paused becomes crashed ("QEMU is gone: the node restarted"), since nothing
//   runs it here any more;
// - a status naming this node for a VM the domain no longer has is removed.
std::vector<domain::change> status_changes(const std::string& node,
                                           const std::map<std::string, local_vm>& local,
                                           const domain::store& state, int64_t now_s);

// What this node has for VMs, as its node object shows it (memory_mib, cpus).
struct node_resources {
  int64_t memory_mib = 0;
  int64_t cpus = 0;
};
// This machine's (from /proc/meminfo and the online CPUs).
node_resources local_resources();
// The put that records `resources` in node `node`'s object, if it differs.
std::vector<domain::change> resource_changes(const std::string& node,
                                             const node_resources& resources,
                                             const domain::store& state);

}  // namespace vcube::daemon
