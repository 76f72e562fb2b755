// The schemas of the HA and fencing kinds: the manager's records (ha_vm,
// ha_fence, ha_manager), administrators' move requests (ha_request), fence
// devices with their monitor status and history, and alerts. See docs/ha.md.
#include <regex>

#include "domain/schema_checker.h"

namespace vcube::domain::detail {
namespace {

constexpr size_t restarts_max = 64;
constexpr size_t alerted_keys_max = 512;
constexpr size_t options_max = 64;
constexpr size_t fence_nodes_max = 64;
constexpr size_t option_chars_max = 1024;
constexpr size_t subject_chars_max = 256;

bool is_in(const std::string& s, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return s == a; });
}

bool is_node_or_empty(const std::string& s) {
  return s.empty() || is_plain_name(s);
}

bool is_node(const std::string& s) {
  return is_plain_name(s);
}

status time_fields(const checker& c, std::initializer_list<std::string_view> fields) {
  for (auto f : fields)
    if (auto s = c.integer(f, 0, INT64_MAX); !s)
      return s;
  return ok_status();
}

status integer_list(const checker& c, std::string_view field, size_t max_items) {
  const json* v = c.get(field);
  if (!v)
    return ok_status();
  if (!v->is_array() || v->size() > max_items)
    return c.fail(field, std::string(field) + " must be an array of at most " +
                             std::to_string(max_items) + " integers");
  for (const auto& item : *v)
    if (!item.is_number_integer())
      return c.fail(field, std::string(field) + " entries must be integers");
  return ok_status();
}

// {"key": "value", ...}: fence-agent options (keys as the agents' stdin names).
status option_map(const checker& c, std::string_view field, const json& map) {
  static const std::regex key_pattern("[a-z][a-z0-9_]{0,63}");
  if (!map.is_object() || map.size() > options_max)
    return c.fail(field, std::string(field) + " must be an object of at most " +
                             std::to_string(options_max) + " string options");
  for (const auto& [key, value] : map.items()) {
    std::string where = std::string(field) + "." + key;
    if (!std::regex_match(key, key_pattern) || key == "action")
      return c.fail(where, where +
                               ": an option name is a-z 0-9 _ starting with a letter, and "
                               "not \"action\" (the runner sets it)");
    if (!value.is_string())
      return c.fail(where, where + " must be a string");
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > option_chars_max ||
        text.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
      return c.fail(where, where + " must be at most 1024 characters without line breaks");
  }
  return ok_status();
}

status check_fence_nodes(const checker& c) {
  const json* nodes = c.get("nodes");
  if (!nodes)
    return c.fail("nodes", "nodes is required (the nodes this device powers, with their plug)");
  if (!nodes->is_object() || nodes->empty() || nodes->size() > fence_nodes_max)
    return c.fail("nodes", "nodes must be an object of 1 to 64 node names, each with its options");
  for (const auto& [node, options] : nodes->items()) {
    if (!is_plain_name(node))
      return c.fail("nodes." + node, "nodes." + node + ": not a node name");
    if (auto s = option_map(c, "nodes." + node, options); !s)
      return s;
  }
  return ok_status();
}

status check_vm_ha_section(const checker& c) {
  const json* ha = c.get("ha");
  if (!ha)
    return ok_status();
  if (!ha->is_object())
    return c.fail("ha", "ha must be an object");
  checker h(c.kind(), c.name(), *ha, "ha.");
  return first_error({
      h.required("state"),
      h.one_of(
          "state",
          [](const std::string& s) {
            return is_in(s, {"started", "stopped"});
          },
          "started or stopped"),
      h.integer("priority", 0, 100),
      h.one_of("preferred_node", is_node, "a node name"),
      h.boolean("sticky"),
      h.only({"state", "priority", "preferred_node", "sticky"}),
  });
}

}  // namespace

status validate_vm_ha(const checker& c) {
  return check_vm_ha_section(c);
}

status validate_ha_vm(const checker& c) {
  return first_error({
      c.required("node"),
      c.one_of("node", is_node_or_empty, "a node name or \"\""),
      c.required("target"),
      c.one_of(
          "target",
          [](const std::string& s) {
            return is_in(s, {"running", "stopped"});
          },
          "running or stopped"),
      c.required("epoch"),
      c.integer("epoch", 0, INT64_MAX),
      c.required("state"),
      c.one_of(
          "state",
          [](const std::string& s) {
            return is_in(s, {"stopped", "starting", "started", "stopping", "moving", "fence_wait",
                             "recovering", "sticky_down", "error"});
          },
          "an HA state"),
      c.one_of("move_to", is_node_or_empty, "a node name or \"\""),
      integer_list(c, "restarts", restarts_max),
      c.text("message"),
      time_fields(c, {"since"}),
      c.only({"node", "target", "epoch", "state", "move_to", "restarts", "message", "since"}),
  });
}

status validate_ha_fence(const checker& c) {
  return first_error({
      c.required("state"),
      c.one_of(
          "state",
          [](const std::string& s) {
            return is_in(s, {"requested", "failed", "confirmed"});
          },
          "requested, failed or confirmed"),
      c.integer("attempts", 0, INT32_MAX),
      c.one_of("owner", is_node_or_empty, "a node name"),
      time_fields(c, {"requested_at", "attempt_at", "next_attempt_at"}),
      c.text("message"),
      c.only({"state", "attempts", "owner", "requested_at", "attempt_at", "next_attempt_at",
              "message"}),
  });
}

status validate_ha_manager(const checker& c) {
  const json* alerted = c.get("alerted");
  if (alerted && (!alerted->is_object() || alerted->size() > alerted_keys_max))
    return c.fail("alerted", "alerted must be an object of at most 512 entries");
  if (alerted)
    for (const auto& [key, at] : alerted->items())
      if (!at.is_number_integer() || key.size() > subject_chars_max)
        return c.fail("alerted", "alerted maps alert keys to unix milliseconds");
  return c.only({"alerted"});
}

status validate_ha_request(const checker& c) {
  return first_error({
      c.required("type"),
      c.one_of(
          "type", [](const std::string& s) { return s == "move"; }, "move"),
      c.required("node"),
      c.one_of("node", is_node, "a node name"),
      time_fields(c, {"at"}),
      c.only({"type", "node", "at"}),
  });
}

status validate_fence_device(const checker& c) {
  static const std::regex agent_pattern("fence_[a-z0-9_]{1,60}");
  const json* options = c.get("options");
  return first_error({
      c.required("agent"),
      c.one_of(
          "agent", [](const std::string& s) { return std::regex_match(s, agent_pattern); },
          "a fence agent name like fence_redfish or fence_ipmilan"),
      options ? option_map(c, "options", *options) : ok_status(),
      check_fence_nodes(c),
      c.integer("level", 1, 9),
      c.text("description"),
      c.only({"agent", "options", "nodes", "level", "description"}),
  });
}

status validate_fence_status(const checker& c) {
  return first_error({
      c.required("ok"),
      c.boolean("ok"),
      time_fields(c, {"checked_at"}),
      c.text("message"),
      c.one_of("checked_by", is_node, "a node name"),
      c.only({"ok", "checked_at", "message", "checked_by"}),
  });
}

status validate_fence_log(const checker& c) {
  return first_error({
      c.required("node"),
      c.one_of("node", is_node, "a node name"),
      c.one_of("device", is_node_or_empty, "a fence device name"),
      c.required("action"),
      c.one_of(
          "action",
          [](const std::string& s) {
            return is_in(s, {"off", "on", "reboot", "status", "monitor", "list"});
          },
          "off, on, reboot, status, monitor or list"),
      c.required("ok"),
      c.boolean("ok"),
      c.integer("exit_code", -1, 255),
      c.text("message"),
      time_fields(c, {"at", "duration_ms"}),
      c.one_of("manager", is_node, "a node name"),
      c.only({"node", "device", "action", "ok", "exit_code", "message", "at", "duration_ms",
              "manager"}),
  });
}

status validate_alert(const checker& c) {
  return first_error({
      c.required("severity"),
      c.one_of(
          "severity",
          [](const std::string& s) {
            return is_in(s, {"critical", "warning", "info"});
          },
          "critical, warning or info"),
      c.required("subject"),
      c.text("subject", subject_chars_max),
      c.text("text"),
      time_fields(c, {"at"}),
      c.only({"severity", "subject", "text", "at"}),
  });
}

}  // namespace vcube::domain::detail
