// This node's identity (/etc/vcube/node.json), written by `cluster create` or
// `cluster join` and read by vcubed at start.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/json.h"

namespace vcube {

struct node_config {
  uint32_t node_id = 0;
  std::string name;     // node name, as in the domain and corosync.conf
  std::string address;  // interconnect address (corosync ring0, API)
  std::string cluster;  // cluster name
  // Interface that carries the VMs' networks off this node ("eth1"); empty:
  // none, networks are bridges of this node only. Optional in node.json. (A
  // default member initializer keeps `node_config{id, name, address, cluster}`
  // free of -Wmissing-field-initializers.)
  std::string vm_uplink{};
};

// invalid_input for unknown fields, missing required ones, or a vm_uplink that
// is no interface name (1..15 bytes, no '/', ':' or white space, not . or ..).
result<node_config> parse_node_config(const json& j);
json to_json(const node_config& config);
result<node_config> read_node_config(const std::string& path);
status write_node_config(const std::string& path, const node_config& config);

}  // namespace vcube
