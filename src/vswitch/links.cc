#include "vswitch/links.h"

#include "common/json.h"

namespace vcube::vswitch {
namespace {

// ip prints null for some fields ("link": null for a device without a lower
// one); those read as absent.
std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

bool has_flag(const json& flags, const char* wanted) {
  if (!flags.is_array())
    return false;
  for (const auto& flag : flags) {
    if (flag.is_string() && flag.get<std::string>() == wanted)
      return true;
  }
  return false;
}

bool bridge_calls_iptables(const json& data) {
  for (const char* key : {"nf_call_iptables", "nf_call_ip6tables", "nf_call_arptables"}) {
    if (data.contains(key) && data[key].is_number_integer() && data[key].get<int>() != 0)
      return true;
  }
  return false;
}

void read_linkinfo(const json& info, link& l) {
  l.kind = string_field(info, "info_kind");
  auto data = info.find("info_data");
  if (data == info.end() || !data->is_object())
    return;
  if (l.kind == "vlan")
    l.vlan_id = int_field(*data, "id");
  if (l.kind == "tun")
    l.is_tap = string_field(*data, "type") == "tap";
  if (l.kind == "bridge")
    l.calls_iptables = bridge_calls_iptables(*data);
}

link read_link(const json& j) {
  link l;
  l.name = j.at("ifname").get<std::string>();
  l.mtu = int_field(j, "mtu");
  l.master = string_field(j, "master");
  l.parent = string_field(j, "link");
  l.alias = string_field(j, "ifalias");
  l.is_up = j.contains("flags") && has_flag(j["flags"], "UP");
  if (j.contains("linkinfo") && j["linkinfo"].is_object())
    read_linkinfo(j["linkinfo"], l);
  return l;
}

}  // namespace

result<link_map> parse_links(const std::string& ip_json) {
  auto parsed = parse_json(ip_json);
  if (!parsed)
    return make_error(errc::invalid_input, "ip -j link: " + parsed.err().message);
  if (!parsed->is_array())
    return make_error(errc::invalid_input, "ip -j link: expected a JSON array of links");
  if (parsed->size() > links_max)
    return make_error(errc::too_large, "ip -j link: more than " + std::to_string(links_max) +
                                           " links in this namespace");
  link_map links;
  try {
    for (const auto& j : *parsed) {
      link l = read_link(j);
      links[l.name] = std::move(l);
    }
  } catch (const json::exception& e) {
    return make_error(errc::invalid_input, std::string("ip -j link: ") + e.what());
  }
  return links;
}

}  // namespace vcube::vswitch
