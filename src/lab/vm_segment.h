// The lab's shared VM L2 segment, so that a guest keeps its address and stays
// reachable from the host whichever node runs it:
//
//   host: bridge vcube-lab-vm0, 10.231.78.1/24, bridge netfilter off, its own
//         MTU pinned at 1500
//   node k: veth pair, host end vcube-lab-nKvm in that bridge (MTU 9216, so
//         networks with jumbo MTUs cross nodes too), node end "vmup", which
//         lab_form_cluster writes as "vm_uplink" into the node's node.json.
//
// Each node's vswitch makes "vmup" the port of its untagged network's bridge
// (and the lower device of its VLAN interfaces), so the host reaches guests
// on 10.231.78.0/24 directly on the bridge: no IP forwarding, no iptables
// rule, no route. Every name starts with "vcube-lab", so `lab down` removes
// them with the rest.
#pragma once

#include <string>

#include "common/error.h"
#include "lab/subnet.h"

namespace vcube::lab {

inline constexpr const char* vm_bridge_name = "vcube-lab-vm0";
inline constexpr const char* vm_subnet = "10.231.78.0/24";
inline constexpr const char* vm_host_address = "10.231.78.1";
inline constexpr const char* vm_uplink_name = "vmup";  // inside every node
inline constexpr int vm_host_side_mtu = 9216;          // the domain's largest network MTU

std::string vm_veth_name(int k);  // "vcube-lab-n2vm" (host end)

// invalid_input naming --subnet when the lab subnet overlaps the VM segment.
status check_vm_segment_apart(const ipv4_subnet& lab_subnet);

// The bridge with its host address, up.
status create_vm_bridge();

// Node k's veth pair into the bridge, both ends up. The node's network
// namespace and the bridge must exist.
status connect_node_to_vm_segment(int k);

// Sets "vm_uplink": "vmup" in the node.json at `path` (keeping its other
// fields). The file must exist: `cluster create` / `cluster join` write it.
status add_vm_uplink(const std::string& node_json_path);

// node k's node.json as the host sees it (below /var/lib/vcube-lab/nK).
std::string node_config_path(int k);

}  // namespace vcube::lab
