// The network planner (pure): from the networks the domain wants, this node's
// vm uplink and the links that exist now, the ordered `ip` commands that make
// the node match. Applying the plan and planning again gives an empty plan.
//
// What a plan does, in this order:
//  1. deletes bridges named vcbr-* that no wanted network maps to, and VLAN
//     interfaces named vcvlan-* that are not wanted (or have the wrong VLAN id
//     or lower device). Nothing without these prefixes is ever deleted;
//  2. detaches from our bridges every port that is neither a vcube tap
//     (vctap-*) nor the bridge's assigned uplink port;
//  3. sets the uplink's MTU to the largest MTU of the networks using it (VLAN
//     interfaces cannot be larger than their lower device) and brings it up;
//  4. per network, by name: creates the bridge (bridge netfilter off, so a
//     host firewall's FORWARD policy does not drop VM traffic; alias "vcube
//     network <name>"; its MTU pinned, see pin_new_bridge_mtu), creates its
//     VLAN interface, attaches the port, sets the network's MTU on the
//     bridge, its VLAN interface and its taps, and brings them up.
// See network_assignment.h for who gets the uplink and VLANs.
#pragma once

#include <string>
#include <vector>

#include "vswitch/command.h"
#include "vswitch/links.h"
#include "vswitch/network.h"

namespace vcube::vswitch {

struct network_plan {
  std::vector<command> commands;  // run in order; stop at the first failure
  std::vector<error> problems;    // networks refused or left without uplink
};

network_plan plan_networks(const std::vector<network>& desired, const std::string& uplink,
                           const link_map& current);

}  // namespace vcube::vswitch
