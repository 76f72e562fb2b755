// One lab node on the host: a network namespace (vcube-lab-nK, eth0 with
// .(10+K), lo, no default route) and a private mount namespace persisted at
// /run/vcube-lab/nK.mnt in which the node's own directories from
// /var/lib/vcube-lab/nK/ cover /etc/vcube, /var/lib/vcube, /etc/corosync,
// /var/lib/corosync, /var/log/corosync, /var/log/vcube, with tmpfs on /run
// and /dev/shm.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"
#include "lab/subnet.h"

namespace vcube::lab {

// nsenter --net=/run/netns/vcube-lab-nK --mount=/run/vcube-lab/nK.mnt
// Append the command to run inside node k.
std::vector<std::string> node_command_prefix(int k);

// The shell script that sets up a node's mount namespace; $1 is the node's
// data directory. Exposed for tests.
std::string node_mount_setup_script();

// Creates the host-side veth (in the bridge), the network namespace and the
// mount namespace of node k. The bridge and /run/vcube-lab must exist.
status create_node_namespaces(const ipv4_subnet& subnet, int k);

// Runs `argv` inside node k, stdio on the node's log file, waiting at most
// `timeout`. A non-zero exit becomes an error quoting the end of the log.
status run_in_node(int k, const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace vcube::lab
