#include "lab/host_networks.h"

#include "common/json.h"

namespace vcube::lab {
namespace {

std::string string_field(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

result<json> parse_array(const std::string& ip_json, const char* what) {
  auto parsed = parse_json(ip_json.empty() ? "[]" : ip_json);
  if (!parsed)
    return make_error(errc::internal,
                      std::string("cannot parse `ip` ") + what + ": " + parsed.err().message);
  if (!parsed->is_array())
    return make_error(errc::internal, std::string("`ip` ") + what + " output is not a JSON array");
  return parsed;
}

}  // namespace

result<std::vector<host_network>> parse_ip_addresses(const std::string& ip_json) {
  auto links = parse_array(ip_json, "addresses");
  if (!links)
    return links.err();
  std::vector<host_network> out;
  for (const auto& link : *links) {
    auto infos = link.find("addr_info");
    if (infos == link.end() || !infos->is_array())
      continue;
    for (const auto& info : *infos) {
      auto length = info.find("prefixlen");
      std::string local = string_field(info, "local");
      if (local.empty() || length == info.end() || !length->is_number_integer())
        continue;
      std::string cidr = local + "/" + std::to_string(length->get<int>());
      auto subnet = parse_network_of(cidr);
      if (subnet)
        out.push_back({*subnet, "address " + cidr + " on " + string_field(link, "ifname")});
    }
  }
  return out;
}

result<std::vector<host_network>> parse_ip_routes(const std::string& ip_json) {
  auto routes = parse_array(ip_json, "routes");
  if (!routes)
    return routes.err();
  std::vector<host_network> out;
  for (const auto& route : *routes) {
    std::string dst = string_field(route, "dst");
    if (dst.empty() || dst == "default")
      continue;
    auto subnet = parse_network_of(dst);
    if (!subnet)
      continue;
    std::string dev = string_field(route, "dev");
    out.push_back({*subnet, "route " + dst + (dev.empty() ? "" : " on " + dev)});
  }
  return out;
}

std::optional<host_network> find_overlap(const ipv4_subnet& subnet,
                                         const std::vector<host_network>& networks) {
  for (const auto& network : networks) {
    if (subnets_overlap(subnet, network.subnet))
      return network;
  }
  return std::nullopt;
}

}  // namespace vcube::lab
