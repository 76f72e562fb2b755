// Creating a cluster, joining one, and starting this node's services. These
// run as root on the node itself and write its files (docs/api.md, join).
#pragma once

#include <string>

#include "common/error.h"

namespace vcube::cli {

struct create_options {
  std::string cluster;                  // cluster name
  std::string address;                  // this node's interconnect address
  std::string name;                     // node name (default: the host name)
  std::string password;                 // the admin password
  uint32_t token_ms = 3000;             // corosync's token timeout (cluster.token_ms)
  uint32_t token_coefficient_ms = 650;  // per node beyond two (cluster.token_coefficient_ms)
};

struct join_options {
  std::string member;       // address of any member
  std::string address;      // this node's interconnect address
  std::string name;         // node name (default: the host name)
  std::string password;     // the cluster admin password
  std::string fingerprint;  // expected SHA-256 of the member's certificate (optional)
};

status create_cluster(const create_options& options);
status join_cluster(const join_options& options);
// Starts corosync and vcubed from this node's configuration unless running;
// waits until the API answers.
status start_services();
// Stops vcubed (SIGTERM) and corosync.
status stop_services();

// The admin password from --password-file, or asked on the terminal.
result<std::string> read_password(const std::string& file, bool confirm);
std::string default_node_name();

}  // namespace vcube::cli
