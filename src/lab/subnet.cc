#include "lab/subnet.h"

#include <algorithm>
#include <charconv>

namespace vcube::lab {
namespace {

error bad_subnet(const std::string& text, const std::string& why) {
  return make_error(
      errc::invalid_input,
      "'" + text + "' is not a usable IPv4 subnet: " + why + " (example: 10.231.77.0/24)",
      "subnet");
}

}  // namespace

result<std::uint32_t> parse_ipv4(const std::string& text) {
  std::uint32_t address = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p == end || *p != '.')
        return make_error(errc::invalid_input, "'" + text + "' is not an IPv4 address");
      ++p;
    }
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc() || next == p || next - p > 3 || octet > 255)
      return make_error(errc::invalid_input, "'" + text + "' is not an IPv4 address");
    address = (address << 8) | octet;
    p = next;
  }
  if (p != end)
    return make_error(errc::invalid_input, "'" + text + "' is not an IPv4 address");
  return address;
}

std::string format_ipv4(std::uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

std::uint32_t subnet_mask(int prefix_length) {
  if (prefix_length <= 0)
    return 0;
  return ~std::uint32_t{0} << (32 - prefix_length);
}

result<ipv4_subnet> parse_network_of(const std::string& text) {
  auto slash = text.find('/');
  auto address = parse_ipv4(text.substr(0, slash));
  if (!address)
    return bad_subnet(text, "bad address");
  int length = 32;
  if (slash != std::string::npos) {
    std::string digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || length < 0 ||
        length > 32)
      return bad_subnet(text, "the prefix length must be 0..32");
  }
  return ipv4_subnet{*address & subnet_mask(length), length};
}

result<ipv4_subnet> parse_subnet(const std::string& text) {
  auto subnet = parse_network_of(text);
  if (!subnet)
    return subnet;
  auto slash = text.find('/');
  if (*parse_ipv4(text.substr(0, slash)) != subnet->network)
    return bad_subnet(text, "host bits are set; did you mean " + format_subnet(*subnet) + "?");
  return subnet;
}

std::string format_subnet(const ipv4_subnet& subnet) {
  return format_ipv4(subnet.network) + "/" + std::to_string(subnet.prefix_length);
}

bool subnets_overlap(const ipv4_subnet& a, const ipv4_subnet& b) {
  // Two prefixes overlap exactly when one contains the other.
  std::uint32_t mask = subnet_mask(std::min(a.prefix_length, b.prefix_length));
  return (a.network & mask) == (b.network & mask);
}

status check_lab_subnet(const ipv4_subnet& subnet, int nodes) {
  std::uint64_t size = std::uint64_t{1} << (32 - subnet.prefix_length);
  // The highest node address must stay below the broadcast address.
  if (subnet.prefix_length < 8 || std::uint64_t(10 + nodes) >= size - 1) {
    return bad_subnet(format_subnet(subnet),
                      "it needs a prefix length of 8..27 so that .1 and .11 to ." +
                          std::to_string(10 + nodes) + " fit");
  }
  return ok_status();
}

std::string host_address(const ipv4_subnet& subnet) {
  return format_ipv4(subnet.network + 1);
}

std::string node_address(const ipv4_subnet& subnet, int k) {
  return format_ipv4(subnet.network + 10 + static_cast<std::uint32_t>(k));
}

}  // namespace vcube::lab
