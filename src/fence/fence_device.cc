#include "fence/fence_device.h"

#include <algorithm>
#include <array>

namespace vcube::fence {
namespace {

constexpr std::size_t option_key_chars_max = 64;
constexpr std::size_t node_name_chars_max = 63;

bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// ^[a-z][a-z0-9_]{0,63}$
bool is_valid_option_key(std::string_view key) {
  if (key.empty() || key.size() > option_key_chars_max || !(key[0] >= 'a' && key[0] <= 'z'))
    return false;
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return is_lower_or_digit(c) || c == '_'; });
}

bool is_valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > node_name_chars_max)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.';
  });
}

error invalid(std::string message, std::string field) {
  return make_error(errc::invalid_input, std::move(message), std::move(field));
}

// An options object: {"key": "value", ...}; `where` is "options" or "nodes.n1".
result<std::map<std::string, std::string>> parse_options(const json& j, const std::string& where) {
  if (!j.is_object())
    return invalid(where + " must be an object of option names to string values", where);
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    std::string field = field_path(where, key);
    if (!is_valid_option_key(key))
      return invalid("option name '" + key + "' must match ^[a-z][a-z0-9_]{0,63}$", field);
    // The runner appends action=..., the one option that is not the device's to set.
    if (key == "action")
      return invalid("'action' is chosen by the fencing code, not set as an option", field);
    if (!value.is_string())
      return invalid(field + " must be a string (e.g. \"8443\", \"1\")", field);
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > option_value_chars_max)
      return invalid(field + " is longer than 1024 characters", field);
    // The agent reads one key=value per line: a line break would inject options.
    if (text.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos)
      return invalid(field + " must not contain a line break or NUL", field);
    out.emplace(key, text);
  }
  return out;
}

result<std::map<std::string, std::map<std::string, std::string>>> parse_nodes(const json& j) {
  if (!j.is_object() || j.empty())
    return invalid("nodes must be an object naming at least one node", "nodes");
  if (j.size() > nodes_max)
    return invalid("a device covers at most 64 nodes", "nodes");
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& [node, options] : j.items()) {
    if (!is_valid_node_name(node))
      return invalid("node name '" + node + "' must be 1..63 of [A-Za-z0-9._-]",
                     field_path("nodes", node));
    auto parsed = parse_options(options, field_path("nodes", node));
    if (!parsed)
      return parsed.err();
    out.emplace(node, std::move(*parsed));
  }
  return out;
}

status parse_scalars(const json& j, fence_device& device) {
  if (!j.contains("agent") || !j["agent"].is_string())
    return invalid("agent is required: the fence agent's name, e.g. \"fence_redfish\"", "agent");
  device.agent = j["agent"].get<std::string>();
  if (!is_valid_agent_name(device.agent))
    return invalid("agent must match ^fence_[a-z0-9_]{1,60}$", "agent");
  if (j.contains("level")) {
    if (!j["level"].is_number_integer())
      return invalid("level must be an integer 1..9", "level");
    auto level = j["level"].get<int64_t>();
    if (level < level_min || level > level_max)
      return invalid("level must be an integer 1..9", "level");
    device.level = static_cast<int>(level);
  }
  if (j.contains("description")) {
    if (!j["description"].is_string())
      return invalid("description must be a string", "description");
    device.description = j["description"].get<std::string>();
    if (device.description.size() > description_chars_max)
      return invalid("description is longer than 1024 characters", "description");
  }
  return ok_status();
}

}  // namespace

bool is_valid_agent_name(std::string_view agent) {
  constexpr std::string_view prefix = "fence_";
  if (!agent.starts_with(prefix) || agent.size() <= prefix.size() ||
      agent.size() > prefix.size() + 60)
    return false;
  return std::all_of(agent.begin() + prefix.size(), agent.end(),
                     [](char c) { return is_lower_or_digit(c) || c == '_'; });
}

std::string agent_path(const std::string& agent) {
  return std::string(agent_dir) + "/" + agent;
}

result<fence_device> parse_fence_device(const std::string& name, const json& j) {
  auto known = reject_unknown_fields(j, {"agent", "options", "nodes", "level", "description"}, "");
  if (!known)
    return known.err();
  fence_device device;
  device.name = name;
  auto scalars = parse_scalars(j, device);
  if (!scalars)
    return scalars.err();
  if (j.contains("options")) {
    auto options = parse_options(j["options"], "options");
    if (!options)
      return options.err();
    device.options = std::move(*options);
  }
  auto nodes = parse_nodes(j.contains("nodes") ? j["nodes"] : json());
  if (!nodes)
    return nodes.err();
  device.node_options = std::move(*nodes);
  return device;
}

json fence_device_to_json(const fence_device& device) {
  json nodes = json::object();
  for (const auto& [node, options] : device.node_options)
    nodes[node] = options;
  return json{{"agent", device.agent},
              {"options", device.options},
              {"nodes", nodes},
              {"level", device.level},
              {"description", device.description}};
}

bool is_secret_option(std::string_view key) {
  static constexpr std::array<std::string_view, 5> secrets = {"password", "passwd", "community",
                                                              "snmp_priv_passwd", "identity_file"};
  return std::find(secrets.begin(), secrets.end(), key) != secrets.end();
}

fence_device redact_secrets(fence_device device) {
  auto redact = [](std::map<std::string, std::string>& options) {
    for (auto& [key, value] : options) {
      if (is_secret_option(key))
        value = redacted_value;
    }
  };
  redact(device.options);
  for (auto& [node, options] : device.node_options)
    redact(options);
  return device;
}

std::vector<fence_device> devices_for_node(const std::vector<fence_device>& devices,
                                           const std::string& node) {
  std::vector<fence_device> out;
  for (const auto& device : devices) {
    if (device.node_options.contains(node))
      out.push_back(device);
  }
  std::sort(out.begin(), out.end(), [](const fence_device& a, const fence_device& b) {
    return a.level != b.level ? a.level < b.level : a.name < b.name;
  });
  return out;
}

}  // namespace vcube::fence
