// The links of one network namespace as the planners see them, parsed from
// `ip -j -d link show` (pure: the shell runs ip, tests feed canned JSON).
#pragma once

#include <map>
#include <string>

#include "common/error.h"

namespace vcube::vswitch {

struct link {
  std::string name;
  std::string kind;    // linkinfo.info_kind: "bridge", "vlan", "tun", "veth", "" (physical)
  std::string master;  // the bridge it is a port of, or ""
  std::string parent;  // a VLAN's lower device ("link"), or ""
  std::string alias;   // ifalias, or ""
  int mtu = 0;
  int vlan_id = 0;              // for kind "vlan"
  bool is_up = false;           // administratively up (flag UP), not carrier
  bool is_tap = false;          // kind "tun" with type "tap"
  bool calls_iptables = false;  // bridge with nf_call_iptables/ip6tables/arptables on
};

// Keyed by name: the order ip prints them in does not matter to anyone.
using link_map = std::map<std::string, link>;

inline constexpr std::size_t links_max = 100000;

// invalid_input when the text is not ip's JSON link list.
result<link_map> parse_links(const std::string& ip_json);

}  // namespace vcube::vswitch
