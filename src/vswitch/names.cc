#include "vswitch/names.h"

#include <cstdio>

namespace vcube::vswitch {
namespace {

std::string hex8(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

bool has_suffix_of(const std::string& ifname, const std::string& prefix, std::size_t length_min,
                   std::size_t length_max, const char* allowed) {
  if (ifname.rfind(prefix, 0) != 0)
    return false;
  std::string rest = ifname.substr(prefix.size());
  if (rest.size() < length_min || rest.size() > length_max)
    return false;
  return rest.find_first_not_of(allowed) == std::string::npos;
}

}  // namespace

uint32_t fnv1a32(const std::string& bytes) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::string bridge_name(const std::string& network) {
  return bridge_prefix + hex8(fnv1a32(network));
}

std::string vlan_port_name(int vlan) {
  return vlan_port_prefix + std::to_string(vlan);
}

std::string tap_name(const std::string& vm, int nic_index) {
  std::string key = vm;
  key.push_back('\0');
  key += std::to_string(nic_index);
  return tap_prefix + hex8(fnv1a32(key));
}

bool is_bridge_name(const std::string& ifname) {
  return has_suffix_of(ifname, bridge_prefix, 8, 8, "0123456789abcdef");
}

bool is_vlan_port_name(const std::string& ifname) {
  return has_suffix_of(ifname, vlan_port_prefix, 1, 4, "0123456789");
}

bool is_tap_name(const std::string& ifname) {
  return has_suffix_of(ifname, tap_prefix, 8, 8, "0123456789abcdef");
}

std::string bridge_alias(const std::string& network) {
  return "vcube network " + network;
}

std::string tap_alias(const std::string& vm, int nic_index) {
  return "vcube vm " + vm + " nic " + std::to_string(nic_index);
}

}  // namespace vcube::vswitch
