#include "vswitch/tap_plan.h"

#include "vswitch/names.h"

namespace vcube::vswitch {
namespace {

status check_tap_request(const std::string& vm, int nic_index, const network& net,
                         const link_map& current) {
  if (vm.empty())
    return make_error(errc::invalid_input, "a tap needs the VM's name", "vm");
  if (nic_index < 0 || nic_index >= nics_per_vm_max)
    return make_error(errc::invalid_input,
                      "VM '" + vm + "': NIC index " + std::to_string(nic_index) +
                          " is outside 0.." + std::to_string(nics_per_vm_max - 1),
                      "nics");
  if (auto s = check_network(net); !s)
    return s;
  auto bridge = current.find(bridge_name(net.name));
  if (bridge == current.end() || bridge->second.kind != "bridge")
    return make_error(errc::unavailable,
                      "VM '" + vm + "' NIC " + std::to_string(nic_index) + ": network '" +
                          net.name + "' has no bridge (" + bridge_name(net.name) +
                          ") on this node; see the node's log for why the network was not set up");
  auto tap = current.find(tap_name(vm, nic_index));
  if (tap != current.end() && !tap->second.is_tap)
    return make_error(errc::conflict, "VM '" + vm + "' NIC " + std::to_string(nic_index) +
                                          ": interface " + tap->first +
                                          " exists and is not a tap; remove it");
  return ok_status();
}

}  // namespace

result<std::vector<command>> plan_tap(const std::string& vm, int nic_index, const network& net,
                                      const link_map& current) {
  if (auto s = check_tap_request(vm, nic_index, net, current); !s)
    return s.err();
  std::string tap = tap_name(vm, nic_index);
  std::string bridge = bridge_name(net.name);
  link now;  // a new tap: down, no alias, no master, MTU 1500
  now.mtu = mtu_default;
  std::vector<command> out;
  if (auto it = current.find(tap); it != current.end())
    now = it->second;
  else
    out.push_back({"ip", "tuntap", "add", "dev", tap, "mode", "tap"});
  if (now.alias != tap_alias(vm, nic_index))
    out.push_back({"ip", "link", "set", "dev", tap, "alias", tap_alias(vm, nic_index)});
  if (now.mtu != net.mtu)
    out.push_back({"ip", "link", "set", "dev", tap, "mtu", std::to_string(net.mtu)});
  if (now.master != bridge)
    out.push_back({"ip", "link", "set", "dev", tap, "master", bridge});
  if (!now.is_up)
    out.push_back({"ip", "link", "set", "dev", tap, "up"});
  return out;
}

std::vector<command> plan_remove_taps(const std::string& vm, const link_map& current) {
  std::vector<command> out;
  for (int i = 0; i < nics_per_vm_max; ++i) {
    auto it = current.find(tap_name(vm, i));
    if (it != current.end() && it->second.is_tap)
      out.push_back({"ip", "link", "delete", "dev", it->first});
  }
  return out;
}

}  // namespace vcube::vswitch
