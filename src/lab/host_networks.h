// What IPv4 networks the host already uses (pure parsing of `ip -j` output), so
// that the lab never takes a subnet that is routed or addressed elsewhere.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "lab/subnet.h"

namespace vcube::lab {

struct host_network {
  ipv4_subnet subnet;
  std::string source;  // for messages: "address 192.0.2.2/24 on eth0", "route 10.0.0.0/8 via ..."
};

// Parses `ip -j -4 addr show`: one entry per address, as its network.
result<std::vector<host_network>> parse_ip_addresses(const std::string& ip_json);
// Parses `ip -j -4 route show table all`; default routes are skipped (they
// overlap everything by definition and do not make a subnet busy).
result<std::vector<host_network>> parse_ip_routes(const std::string& ip_json);

// The first host network that overlaps `subnet`, if any.
std::optional<host_network> find_overlap(const ipv4_subnet& subnet,
                                         const std::vector<host_network>& networks);

}  // namespace vcube::lab
