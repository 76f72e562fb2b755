// corosync_conf: the corosync.conf text for a vcube cluster, as a pure
// function of the cluster's nodes. No I/O: corosync_service writes the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace vcube::cluster {

struct corosync_node {
  uint32_t node_id = 0;  // 1..65535, unique in the cluster
  std::string name;      // [a-z0-9-], 1..63 characters, not starting with '-'
  std::string address;   // IPv4 or IPv6 literal (ring0_addr, knet link 0)
  friend bool operator==(const corosync_node&, const corosync_node&) = default;
};

struct corosync_config {
  std::string cluster_name;  // same rules as a node name
  uint64_t config_version = 0;
  std::vector<corosync_node> nodes;
  uint32_t token_ms = 3000;
  // corosync adds this per node beyond two to the token timeout (its default).
  uint32_t token_coefficient_ms = 650;
  friend bool operator==(const corosync_config&, const corosync_config&) = default;
};

inline constexpr size_t corosync_nodes_max = 64;
inline constexpr uint32_t corosync_token_ms_min = 1000;
inline constexpr uint32_t corosync_token_ms_max = 60000;
inline constexpr uint32_t corosync_token_coefficient_ms_max = 10000;

// Checks every field (names, unique ids 1..65535, unique IP literals, at
// least one node, token range) and returns the config with its nodes sorted
// by node id. The error's `field` names the culprit ("nodes[1].address").
result<corosync_config> validate_corosync_config(const corosync_config& config);

// Renders corosync.conf: totem (knet, aes256/sha256), nodelist, votequorum
// (two_node exactly when there are two nodes) and logging. Deterministic: the
// same config (in any node order) gives the same text. Expects a config that
// validate_corosync_config accepted.
std::string render_corosync_conf(const corosync_config& config);

}  // namespace vcube::cluster
