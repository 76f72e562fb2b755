#include "cluster/corosync_conf.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

namespace vcube::cluster {
namespace {

constexpr size_t name_chars_max = 63;

bool is_valid_name(const std::string& name) {
  if (name.empty() || name.size() > name_chars_max || name.front() == '-')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_ip_literal(const std::string& address) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

error invalid(std::string message, std::string field) {
  return make_error(errc::invalid_input, std::move(message), std::move(field));
}

// Checks one node on its own; uniqueness is checked by the caller.
status validate_node(const corosync_node& node, const std::string& field) {
  if (node.node_id < 1 || node.node_id > 65535) {
    return invalid("node id " + std::to_string(node.node_id) + " is outside 1..65535",
                   field + ".node_id");
  }
  if (!is_valid_name(node.name)) {
    return invalid("node name '" + node.name +
                       "' must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
                   field + ".name");
  }
  if (!is_ip_literal(node.address)) {
    return invalid("node address '" + node.address + "' is not an IPv4 or IPv6 address",
                   field + ".address");
  }
  return ok_status();
}

status validate_nodes(const std::vector<corosync_node>& nodes) {
  if (nodes.empty())
    return invalid("a cluster needs at least one node", "nodes");
  if (nodes.size() > corosync_nodes_max) {
    return invalid("a cluster has at most " + std::to_string(corosync_nodes_max) + " nodes",
                   "nodes");
  }
  std::set<uint32_t> ids;
  std::set<std::string> names;
  std::set<std::string> addresses;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    std::string field = "nodes[" + std::to_string(i) + "]";
    if (auto s = validate_node(node, field); !s)
      return s;
    if (!ids.insert(node.node_id).second)
      return invalid("node id " + std::to_string(node.node_id) + " is used twice",
                     field + ".node_id");
    if (!names.insert(node.name).second)
      return invalid("node name '" + node.name + "' is used twice", field + ".name");
    if (!addresses.insert(node.address).second)
      return invalid("node address " + node.address + " is used twice", field + ".address");
  }
  return ok_status();
}

std::vector<corosync_node> sorted_by_id(std::vector<corosync_node> nodes) {
  std::sort(nodes.begin(), nodes.end(),
            [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
  return nodes;
}

}  // namespace

result<corosync_config> validate_corosync_config(const corosync_config& config) {
  if (!is_valid_name(config.cluster_name)) {
    return invalid("cluster name '" + config.cluster_name +
                       "' must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
                   "cluster_name");
  }
  if (config.token_ms < corosync_token_ms_min || config.token_ms > corosync_token_ms_max) {
    return invalid("token timeout " + std::to_string(config.token_ms) + " ms is outside " +
                       std::to_string(corosync_token_ms_min) + ".." +
                       std::to_string(corosync_token_ms_max) + " ms",
                   "token_ms");
  }
  if (config.token_coefficient_ms > corosync_token_coefficient_ms_max)
    return invalid("token coefficient " + std::to_string(config.token_coefficient_ms) +
                       " ms is outside 0.." + std::to_string(corosync_token_coefficient_ms_max) +
                       " ms",
                   "token_coefficient_ms");
  if (auto s = validate_nodes(config.nodes); !s)
    return s.err();
  corosync_config out = config;
  out.nodes = sorted_by_id(config.nodes);
  return out;
}

// corosync's parser wants "name {" and every "key: value" on a line of its own.
std::string render_corosync_conf(const corosync_config& config) {
  std::string t;
  t += "# Written by vcube; it rewrites this file when the cluster changes.\n";
  t += "totem {\n";
  t += "    version: 2\n";
  t += "    cluster_name: " + config.cluster_name + "\n";
  t += "    config_version: " + std::to_string(config.config_version) + "\n";
  t += "    transport: knet\n";
  t += "    crypto_cipher: aes256\n";
  t += "    crypto_hash: sha256\n";
  t += "    token: " + std::to_string(config.token_ms) + "\n";
  t += "    token_coefficient: " + std::to_string(config.token_coefficient_ms) + "\n";
  t += "    interface {\n";
  t += "        linknumber: 0\n";
  t += "    }\n";
  t += "}\n\n";
  t += "nodelist {\n";
  for (const auto& node : sorted_by_id(config.nodes)) {
    t += "    node {\n";
    t += "        ring0_addr: " + node.address + "\n";
    t += "        name: " + node.name + "\n";
    t += "        nodeid: " + std::to_string(node.node_id) + "\n";
    t += "    }\n";
  }
  t += "}\n\n";
  t += "quorum {\n";
  t += "    provider: corosync_votequorum\n";
  if (config.nodes.size() == 2)
    t += "    two_node: 1\n";
  t += "}\n\n";
  t += "logging {\n";
  t += "    to_logfile: yes\n";
  t += "    logfile: /var/log/corosync/corosync.log\n";
  t += "    to_syslog: yes\n";
  t += "    timestamp: on\n";
  t += "}\n";
  return t;
}

}  // namespace vcube::cluster
