// Where a node keeps its files. The lab gives each node private copies of these
// directories through a mount namespace, so nothing here knows about the lab.
#pragma once

namespace vcube::paths {

inline constexpr const char* etc_dir = "/etc/vcube";        // node config, certificates
inline constexpr const char* state_dir = "/var/lib/vcube";  // domain database
inline constexpr const char* run_dir = "/run/vcube";        // sockets, pid files
inline constexpr const char* node_config = "/etc/vcube/node.json";
inline constexpr const char* cli_config = "/etc/vcube/cli.json";
inline constexpr const char* ca_cert = "/etc/vcube/ca.crt";
inline constexpr const char* ca_key = "/etc/vcube/ca.key";
inline constexpr const char* node_cert = "/etc/vcube/node.crt";
inline constexpr const char* node_key = "/etc/vcube/node.key";
inline constexpr const char* auth_key = "/etc/vcube/auth.key";  // token signing secret
inline constexpr const char* domain_db = "/var/lib/vcube/domain.db";
inline constexpr const char* vcubed_pid = "/run/vcube/vcubed.pid";
inline constexpr const char* corosync_conf = "/etc/corosync/corosync.conf";
inline constexpr const char* corosync_authkey = "/etc/corosync/authkey";
inline constexpr int api_port = 8001;

}  // namespace vcube::paths
