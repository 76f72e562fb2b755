// Names and paths of the lab's host objects. Every object the lab creates on
// the host carries the prefix "vcube-lab", so `lab down` can find them after a
// crash without any state file.
#pragma once

#include <string>

#include "common/error.h"

namespace vcube::lab {

inline constexpr const char* name_prefix = "vcube-lab";    // links, bridge, namespaces
inline constexpr const char* netns_prefix = "vcube-lab-";  // "vcube-lab-n2"
inline constexpr const char* bridge_name = "vcube-lab0";
inline constexpr const char* run_dir = "/run/vcube-lab";       // nsfs files, state.json
inline constexpr const char* data_dir = "/var/lib/vcube-lab";  // per-node persistent data
inline constexpr const char* state_file = "/run/vcube-lab/state.json";
// Outside /run on purpose: each node has its own tmpfs on /run, but sees the
// host's /var/lib/vcube-lab, so `cluster create --password-file` can read it.
inline constexpr const char* password_file = "/var/lib/vcube-lab/admin-password";
// Every node's /var/lib/vcube/images is this one directory, as an NFS share
// would be on real servers: a VM's disk is where any node can start it (what
// HA failover needs until eSAN disks exist).
inline constexpr const char* shared_images_dir = "/var/lib/vcube-lab/images";
inline constexpr int nodes_min = 2;
inline constexpr int nodes_max = 9;

std::string node_name(int k);      // "n2"
std::string netns_name(int k);     // "vcube-lab-n2" (also the host-side veth)
std::string veth_name(int k);      // "vcube-lab-n2"
std::string mount_ns_file(int k);  // "/run/vcube-lab/n2.mnt"
std::string node_data_dir(int k);  // "/var/lib/vcube-lab/n2"
std::string node_log_file(int k);  // "/var/lib/vcube-lab/n2/lab.log"

// Parses a node argument: "2" or "n2". With node_count > 0 it must name one of
// nodes 1..node_count; otherwise any of 1..nodes_max.
result<int> parse_node_argument(const std::string& text, int node_count);

// True when `name` starts with "vcube-lab" (a host object the lab owns).
bool is_lab_name(const std::string& name);

}  // namespace vcube::lab
