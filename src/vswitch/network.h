// A domain network as the virtual switch needs it (docs/domain.md, kind
// "network"): its name, VLAN tag and MTU. The CIDR does not concern the switch.
#pragma once

#include <string>

#include "common/error.h"
#include "common/json.h"

namespace vcube::vswitch {

inline constexpr int vlan_max = 4094;  // 0 = untagged
inline constexpr int mtu_min = 576;
inline constexpr int mtu_max = 9216;
inline constexpr int mtu_default = 1500;

struct network {
  std::string name;
  int vlan = 0;
  int mtu = mtu_default;
};

// From a domain object's name and value ({"vlan": 10, "cidr": ..., "mtu": 9000}).
// invalid_input naming the field when vlan or mtu is missing or out of range.
result<network> network_from_domain(const std::string& name, const json& value);

// ok, or invalid_input naming the field (what the planners check first).
status check_network(const network& net);

}  // namespace vcube::vswitch
