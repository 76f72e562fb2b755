// The local multi-node lab: a whole vcube cluster on one Linux host, for
// tests and demos. Needs root. The `vcube lab ...` commands call these.
//
// Layout: bridge vcube-lab0 holding .1 of the lab subnet; node k is network
// namespace vcube-lab-nK (eth0 = .(10+k), lo, no default route; host-side veth
// vcube-lab-nK in the bridge) plus a private mount namespace persisted at
// /run/vcube-lab/nK.mnt (see node_namespaces.h). VMs share one L2 segment:
// bridge vcube-lab-vm0 (host 10.231.78.1/24) with veth "vmup" in every node,
// the node's vm_uplink (see vm_segment.h). Persistent node data lives in
// /var/lib/vcube-lab/nK and survives lab_kill/lab_start; lab_down removes it.
// State: /run/vcube-lab/state.json. Functions print nothing unless given a stream.
#pragma once

#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "lab/lab_state.h"
#include "lab/names.h"
#include "lab/node_namespaces.h"

namespace vcube::lab {

struct lab_options {
  int nodes = 3;                          // 2..9
  std::string subnet = "10.231.77.0/24";  // must not overlap any host address or route,
                                          // nor the VM segment 10.231.78.0/24
  std::string vcube_exe;                  // run inside the nodes; empty: /proc/self/exe
};

// lab_create_infrastructure, then lab_form_cluster; prints each node's API URL
// and the admin password to `out`. If the infrastructure cannot be built,
// whatever was built is removed again; if forming the cluster fails, the
// lab stays up for inspection (the error says where the logs are).
status lab_up(const lab_options& options, std::ostream& out = std::cout);

// Bridge, namespaces, mounts, state file and admin password; no cluster.
// Refuses (conflict) when a lab already exists and (invalid_input, naming
// --subnet) when the subnet overlaps one the host uses.
status lab_create_infrastructure(const lab_options& options);

// `vcube cluster create lab` on n1, then `vcube cluster join` on n2..nN, each
// inside its node; output goes to /var/lib/vcube-lab/nK/lab.log.
status lab_form_cluster(const lab_options& options);

// Kills every process of every lab namespace, deletes the namespaces, links
// and mounts named vcube-lab*, removes /run/vcube-lab and /var/lib/vcube-lab.
// Works without a state file (after a crash); ok when nothing exists.
status lab_down();

// Nodes, addresses, namespace presence, processes, link up/partitioned.
status lab_status(std::ostream& out);

// SIGKILL every process in node k's namespaces (corosync, vcubed, anything).
status lab_kill(int node);
// `vcube service start` inside node k (after lab_kill): what the switch's On does.
status lab_boot(int node);
// `vcube lab start`: boots node k again. When the power switch turned its
// outlet off (a fence), through the switch (Redfish On, sent from another
// node), so the switch's PowerState stays true; otherwise lab_boot.
status lab_start(int node);
// Host-side veth down / up. heal without a node heals every node.
status lab_partition(int node);
status lab_heal(std::optional<int> node);

// Parses a node argument ("2" or "n2") against the running lab's node count
// (any of n1..n9 when no lab state exists).
result<int> parse_lab_node(const std::string& text);

// Runs argv inside node k with this process's stdin/stdout/stderr and returns
// its exit code (128+signal when killed; 125 when the lab or node is missing,
// with the reason on stderr; 126/127 from nsenter when argv cannot be run).
int lab_exec(int node, const std::vector<std::string>& argv);

}  // namespace vcube::lab
