// Interface names of the virtual switch. Linux limits names to 15 bytes, so
// the names of networks and VMs (which can be longer) go through a hash:
//
//   bridge of network N      "vcbr-"  + 8 hex of fnv1a32(N)                 13 bytes
//   VLAN port for VLAN V     "vcvlan-" + V (decimal, 1..4094)             <= 11 bytes
//   tap of NIC i of VM M     "vctap-" + 8 hex of fnv1a32(M + '\0' + i)       14 bytes
//
// The same inputs give the same names on every node and after every restart.
// Two network names with the same 32-bit hash would share a bridge; the
// planner refuses the second one (probability ~ n^2 / 2^33: about 1 in 10^5
// for 300 networks). Everything vcube creates carries one of these prefixes,
// and the planner only ever deletes links that do.
#pragma once

#include <cstdint>
#include <string>

namespace vcube::vswitch {

inline constexpr const char* bridge_prefix = "vcbr-";
inline constexpr const char* vlan_port_prefix = "vcvlan-";
inline constexpr const char* tap_prefix = "vctap-";
inline constexpr std::size_t interface_name_bytes_max = 15;  // IFNAMSIZ - 1
inline constexpr int nics_per_vm_max = 8;                    // as the domain allows

// FNV-1a, 32 bits: stable across compilers and runs (std::hash is not).
uint32_t fnv1a32(const std::string& bytes);

std::string bridge_name(const std::string& network);
std::string vlan_port_name(int vlan);
std::string tap_name(const std::string& vm, int nic_index);

bool is_bridge_name(const std::string& ifname);     // "vcbr-" + 8 hex
bool is_vlan_port_name(const std::string& ifname);  // "vcvlan-" + digits
bool is_tap_name(const std::string& ifname);        // "vctap-" + 8 hex

// The alias (ifalias) written on our links, for people reading `ip link`.
std::string bridge_alias(const std::string& network);
std::string tap_alias(const std::string& vm, int nic_index);

}  // namespace vcube::vswitch
