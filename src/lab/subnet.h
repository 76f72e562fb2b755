// IPv4 subnet arithmetic for the lab (pure). The host takes .1 of the lab
// subnet, node k takes .(10+k).
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace vcube::lab {

struct ipv4_subnet {
  std::uint32_t network = 0;  // host byte order, host bits zero
  int prefix_length = 0;      // 0..32
  bool operator==(const ipv4_subnet&) const = default;
};

result<std::uint32_t> parse_ipv4(const std::string& text);
std::string format_ipv4(std::uint32_t address);

// "10.231.77.0/24"; the address must have no host bits set. A bare address is a /32.
result<ipv4_subnet> parse_subnet(const std::string& text);
// Like parse_subnet, but host bits are cleared ("192.0.2.2/24" -> 192.0.2.0/24).
result<ipv4_subnet> parse_network_of(const std::string& text);
std::string format_subnet(const ipv4_subnet& subnet);

std::uint32_t subnet_mask(int prefix_length);
bool subnets_overlap(const ipv4_subnet& a, const ipv4_subnet& b);

// Checks that `subnet` can hold the host address and `nodes` node addresses.
status check_lab_subnet(const ipv4_subnet& subnet, int nodes);

std::string host_address(const ipv4_subnet& subnet);         // "10.231.77.1"
std::string node_address(const ipv4_subnet& subnet, int k);  // "10.231.77.12" for k = 2

}  // namespace vcube::lab
