// Which network gets which bridge and which uplink port on this node: the
// decisions the network planner makes before it writes any command (pure).
//
// With a vm uplink, the untagged network (vlan 0) uses the uplink itself as its
// bridge port and a network with vlan V uses the VLAN interface vcvlan-V on the
// uplink. One network per VLAN: when several want the same one, the network
// whose bridge holds that port now keeps it (so adding a network never steals
// a port from a working one); otherwise the first by name. The others are
// refused: a problem each, and no bridge. Without an uplink (none configured,
// or configured but missing) every network is a bridge without a port.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "vswitch/links.h"
#include "vswitch/network.h"

namespace vcube::vswitch {

inline constexpr std::size_t networks_max = 4096;

struct assignment {
  network net;
  std::string bridge;  // bridge_name(net.name)
  std::string port;    // the uplink, vcvlan-V, or "" (a bridge of this node only)
};

struct assignments {
  std::vector<assignment> networks;  // sorted by name
  std::vector<error> problems;       // sentences naming the network (or the uplink)
  std::string uplink;                // the usable uplink, or ""
};

// `uplink` is node.json's vm_uplink ("" = none); `current` the links now.
assignments assign_networks(const std::vector<network>& desired, const std::string& uplink,
                            const link_map& current);

}  // namespace vcube::vswitch
