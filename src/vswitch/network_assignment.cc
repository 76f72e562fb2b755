#include "vswitch/network_assignment.h"

#include <algorithm>
#include <map>
#include <set>

#include "vswitch/names.h"

namespace vcube::vswitch {
namespace {

const link* find_link(const link_map& links, const std::string& name) {
  auto it = links.find(name);
  return it == links.end() ? nullptr : &it->second;
}

bool is_vcube_name(const std::string& name) {
  return is_bridge_name(name) || is_vlan_port_name(name) || is_tap_name(name);
}

std::string usable_uplink(const std::string& uplink, const link_map& current,
                          std::vector<error>& problems) {
  if (uplink.empty())
    return "";
  if (is_vcube_name(uplink)) {
    problems.push_back(make_error(errc::invalid_input,
                                  "vm uplink '" + uplink +
                                      "' (vm_uplink in node.json) is one of vcube's own "
                                      "interfaces; name the physical or veth interface instead",
                                  "vm_uplink"));
    return "";
  }
  if (find_link(current, uplink) == nullptr) {
    problems.push_back(make_error(errc::not_found,
                                  "vm uplink '" + uplink +
                                      "' (vm_uplink in node.json) does not exist on this node; "
                                      "its networks are bridges without an uplink until it does",
                                  "vm_uplink"));
    return "";
  }
  return uplink;
}

// Valid, unique by name and by bridge, bridge name not taken by a non-bridge.
std::vector<assignment> valid_networks(std::vector<network> desired, const link_map& current,
                                       std::vector<error>& problems) {
  std::sort(desired.begin(), desired.end(),
            [](const network& a, const network& b) { return a.name < b.name; });
  std::vector<assignment> out;
  std::map<std::string, std::string> network_of_bridge;
  for (const auto& net : desired) {
    std::string bridge = bridge_name(net.name);
    const link* existing = find_link(current, bridge);
    error refusal;
    if (auto s = check_network(net); !s)
      refusal = s.err();
    else if (out.size() >= networks_max)
      refusal = make_error(errc::too_large, "network '" + net.name + "': more than " +
                                                std::to_string(networks_max) + " networks");
    else if (network_of_bridge.count(bridge) != 0)
      refusal = make_error(errc::conflict, "network '" + net.name + "' has the same bridge name (" +
                                               bridge + ") as network '" +
                                               network_of_bridge[bridge] + "'; rename one of them");
    else if (existing != nullptr && existing->kind != "bridge")
      refusal = make_error(errc::conflict, "network '" + net.name + "': interface " + bridge +
                                               " exists and is not a bridge; remove it");
    else {
      network_of_bridge[bridge] = net.name;
      out.push_back({net, bridge, ""});
      continue;
    }
    problems.push_back(refusal);
  }
  return out;
}

std::string port_for(int vlan, const std::string& uplink) {
  return vlan == 0 ? uplink : vlan_port_name(vlan);
}

error refusal(const assignment& loser, const assignment& owner, const std::string& uplink) {
  if (loser.net.vlan == 0)
    return make_error(errc::conflict,
                      "network '" + loser.net.name + "' is untagged (vlan 0) like network '" +
                          owner.net.name + "', and only one untagged network can use the vm " +
                          "uplink '" + uplink + "'; give one of them a VLAN",
                      "vlan");
  return make_error(errc::conflict,
                    "network '" + loser.net.name + "' uses vlan " + std::to_string(loser.net.vlan) +
                        " like network '" + owner.net.name +
                        "'; a VLAN carries one network; give it another VLAN",
                    "vlan");
}

// Why the port of `owner` cannot be used, or an empty message.
std::string port_trouble(const assignment& owner, const std::string& port,
                         const link_map& current) {
  const link* l = find_link(current, port);
  if (l == nullptr)
    return "";
  if (owner.net.vlan == 0 && !l->master.empty() && !is_bridge_name(l->master))
    return "network '" + owner.net.name + "': the vm uplink '" + port + "' is a port of bridge '" +
           l->master + "', which vcube does not manage";
  if (owner.net.vlan != 0 && l->kind != "vlan")
    return "network '" + owner.net.name + "': interface " + port +
           " exists and is not a VLAN interface; remove it";
  return "";
}

}  // namespace

assignments assign_networks(const std::vector<network>& desired, const std::string& uplink,
                            const link_map& current) {
  assignments out;
  out.uplink = usable_uplink(uplink, current, out.problems);
  auto candidates = valid_networks(desired, current, out.problems);
  if (out.uplink.empty()) {
    out.networks = std::move(candidates);
    return out;
  }
  // Per VLAN: the network whose bridge holds the port now, else the first by name.
  std::map<int, const assignment*> owner;
  for (const auto& a : candidates) {
    const link* port = find_link(current, port_for(a.net.vlan, out.uplink));
    bool holds_it = port != nullptr && port->master == a.bridge;
    if (owner.count(a.net.vlan) == 0 || holds_it)
      owner[a.net.vlan] = &a;
  }
  for (const auto& a : candidates) {
    const assignment& first = *owner[a.net.vlan];
    if (&first != &a) {
      out.problems.push_back(refusal(a, first, out.uplink));
      continue;
    }
    std::string port = port_for(a.net.vlan, out.uplink);
    if (auto trouble = port_trouble(a, port, current); !trouble.empty()) {
      out.problems.push_back(make_error(errc::conflict, trouble, "vm_uplink"));
      continue;
    }
    out.networks.push_back({a.net, a.bridge, port});
  }
  return out;
}

}  // namespace vcube::vswitch
