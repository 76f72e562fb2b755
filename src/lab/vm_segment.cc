#include "lab/vm_segment.h"

#include <chrono>
#include <vector>

#include "env/node_config.h"
#include "env/process.h"
#include "lab/names.h"

namespace vcube::lab {
namespace {

status run_all(const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    auto r = env::run_checked(argv, {}, std::chrono::seconds(20));
    if (!r)
      return r.err();
  }
  return ok_status();
}

}  // namespace

std::string vm_veth_name(int k) {
  return veth_name(k) + "vm";
}

status check_vm_segment_apart(const ipv4_subnet& lab_subnet) {
  auto segment = parse_subnet(vm_subnet);
  if (!segment)
    return segment.err();
  if (!subnets_overlap(lab_subnet, *segment))
    return ok_status();
  return make_error(errc::invalid_input,
                    "the lab subnet " + format_subnet(lab_subnet) + " overlaps the lab's VM " +
                        "segment " + vm_subnet + "; pick another with --subnet (e.g. " +
                        "--subnet 10.231.79.0/24)",
                    "subnet");
}

// A bridge follows its ports' smallest MTU until its own is changed; a change
// to a different value pins it (setting the current value does nothing).
status create_vm_bridge() {
  std::string address = std::string(vm_host_address) + "/24";
  return run_all({
      {"ip", "link", "add", vm_bridge_name, "type", "bridge", "nf_call_iptables", "0",
       "nf_call_ip6tables", "0", "nf_call_arptables", "0"},
      {"ip", "link", "set", "dev", vm_bridge_name, "mtu", "1499"},
      {"ip", "link", "set", "dev", vm_bridge_name, "mtu", "1500"},
      {"ip", "addr", "add", address, "dev", vm_bridge_name},
      {"ip", "link", "set", "dev", vm_bridge_name, "up"},
  });
}

status connect_node_to_vm_segment(int k) {
  std::string ns = netns_name(k);
  std::string host_end = vm_veth_name(k);
  auto connected = run_all({
      {"ip", "link", "add", host_end, "type", "veth", "peer", "name", vm_uplink_name, "netns", ns},
      {"ip", "link", "set", "dev", host_end, "mtu", std::to_string(vm_host_side_mtu)},
      {"ip", "link", "set", "dev", host_end, "master", vm_bridge_name, "up"},
      {"ip", "-n", ns, "link", "set", "dev", vm_uplink_name, "up"},
  });
  if (!connected)
    return make_error(connected.err().code,
                      "node " + node_name(k) + " VM segment: " + connected.err().message);
  return ok_status();
}

status add_vm_uplink(const std::string& node_json_path) {
  auto config = read_node_config(node_json_path);
  if (!config)
    return make_error(config.err().code, node_json_path + ": " + config.err().message);
  config->vm_uplink = vm_uplink_name;
  return write_node_config(node_json_path, *config);
}

std::string node_config_path(int k) {
  return node_data_dir(k) + "/etc-vcube/node.json";
}

}  // namespace vcube::lab
