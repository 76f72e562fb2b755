// `vcube ha status`, `vcube fence ...` and `vcube alerts`: HA and fencing
// over the API (docs/api.md, "HA and fencing"), plus the pure pieces the VM
// commands share with them: the flags that describe a VM's HA settings and
// the parsing of fence-device flags.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/session.h"

namespace vcube::cli {

void add_ha_commands(CLI::App& app, global_options& g, int& code);

// A VM's HA settings as flags (`vm create --ha...`, `vm ha NAME on ...`).
struct vm_ha_flags {
  std::optional<int> priority;  // 0..100, checked by the API
  bool is_sticky = false;       // absent: not sent, so `vm ha on` keeps the current setting
  std::string preferred_node;   // empty: not sent
};
// The settings given, as the fields of a VM's "ha" section / the /ha request.
json ha_settings(const vm_ha_flags& flags);
// The "ha" section `vm create --ha` puts into the config: defined stopped,
// `vm start` starts it through the HA manager. Null without --ha; the other
// HA flags without --ha are an error rather than silently ignored.
result<json> ha_section(bool has_ha, const vm_ha_flags& flags);

// --option key=value → (key, value). Values stay strings: agents read strings.
result<std::pair<std::string, std::string>> parse_fence_option(const std::string& text);
// --node NODE[:key=value[,key=value...]] → (node, {key: value...}). A value
// cannot hold a comma (use the device's options for such a value).
result<std::pair<std::string, json>> parse_fence_node(const std::string& text);

struct fence_device_flags {
  std::string agent;
  std::vector<std::string> options;  // --option key=value
  std::vector<std::string> nodes;    // --node NODE[:key=value,...]
  std::optional<int> level;
  std::string description;
  std::string password_file;  // read by the caller; see fence_device_config
};
// The device's config for PUT /fence/devices/{name}; `password` is the first
// line of --password-file when it was given. Errors name the offending flag.
result<json> fence_device_config(const fence_device_flags& flags,
                                 const std::optional<std::string>& password);

// The human-readable `ha status` from the body of GET /api/v1/ha.
void render_ha_status(const json& body, std::ostream& out);

}  // namespace vcube::cli
