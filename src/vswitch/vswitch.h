// The virtual switch on this node: applies the planners' commands with `ip`
// in the caller's network namespace.
//
// Blocking (each ip command has a deadline of ip_timeout): call these from a
// worker thread, never from the event loop. Thread-safe: one mutex serialises
// every function here, so a reconcile never plans against links a concurrent
// tap creation is changing. Needs CAP_NET_ADMIN.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"
#include "vswitch/command.h"
#include "vswitch/links.h"
#include "vswitch/network.h"

namespace vcube::vswitch {

inline constexpr std::chrono::seconds ip_timeout{10};

// `ip -j -d link show`, parsed.
result<link_map> read_links();

// Runs the commands in order; stops at the first failure, which names the
// command and quotes ip's message.
status run_commands(const std::vector<command>& commands);

// Makes this node's bridges match `networks` (all domain networks) with
// `uplink` (node.json's vm_uplink, "" = none); see network_plan.h. Call at
// start and whenever a network is added, changed or removed. Every network
// that can be realised is, even when others are refused; the error then lists
// every refused network (conflict) or the failed command (internal).
status reconcile_networks(const std::vector<network>& networks, const std::string& uplink);

// The tap of NIC `nic_index` of `vm` on `net`'s bridge, created if missing
// (idempotent: after a vcubed restart it finds the running VM's tap as is).
// Returns its name, for QEMU's `-netdev tap,ifname=...`.
result<std::string> create_tap(const std::string& vm, int nic_index, const network& net);

// The taps of all NICs of `vm`, in order: nic_networks[i] is NIC i's network.
// On failure, every tap of `vm` is removed again (a VM that did not start
// keeps none).
result<std::vector<std::string>> create_taps(const std::string& vm,
                                             const std::vector<network>& nic_networks);

// Deletes every tap of `vm` (call when its QEMU has ended). Ok when none exist.
status remove_taps(const std::string& vm);

}  // namespace vcube::vswitch
