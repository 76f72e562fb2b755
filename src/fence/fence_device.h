// A fence device as the domain stores it: which fence agent (Debian's
// fence-agents convention, /usr/sbin/fence_*), the options every call gets,
// and the nodes it can power off with their own options (plug, systems_uri).
// Parsing is pure; whether the agent exists is checked when it runs.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace vcube::fence {

inline constexpr int level_min = 1;
inline constexpr int level_max = 9;
inline constexpr std::size_t nodes_max = 64;
inline constexpr std::size_t option_value_chars_max = 1024;
inline constexpr std::size_t description_chars_max = 1024;
inline constexpr const char* agent_dir = "/usr/sbin";
inline constexpr const char* redacted_value = "********";

struct fence_device {
  std::string name;
  std::string agent;                           // "fence_redfish"
  std::map<std::string, std::string> options;  // shared: ip, ipport, username, password, ...
  // Per node name: plug / systems_uri / port ... A device covers exactly these nodes.
  std::map<std::string, std::map<std::string, std::string>> node_options;
  int level = level_min;  // a node's devices are tried in ascending level, then name
  std::string description;

  friend bool operator==(const fence_device&, const fence_device&) = default;
};

// {"agent", "options", "nodes", "level", "description"}: invalid_input with
// `field` naming the culprit ("options.ip", "nodes.n1.plug", "level").
// `name` is the domain object's name and is not part of the JSON.
result<fence_device> parse_fence_device(const std::string& name, const json& j);
json fence_device_to_json(const fence_device& device);

// ^fence_[a-z0-9_]{1,60}$ (pure: does not look at the file system).
bool is_valid_agent_name(std::string_view agent);
// "/usr/sbin/fence_redfish"
std::string agent_path(const std::string& agent);

// password, passwd, community, snmp_priv_passwd, identity_file.
bool is_secret_option(std::string_view key);
// The device with every secret option value (shared and per node) replaced by
// "********": what a non-admin reader may see.
fence_device redact_secrets(fence_device device);

// The devices covering `node`, in the order fence_off tries them (level, then name).
std::vector<fence_device> devices_for_node(const std::vector<fence_device>& devices,
                                           const std::string& node);

}  // namespace vcube::fence
