// The lab power switch's memory: every node's PowerState in a JSON file
// ({"n1": "On", "n2": "Off"}), so a restarted switch keeps an outlet off.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "lab/power_switch_routes.h"

namespace vcube::lab {

json power_states_to_json(const std::vector<power_state>& states);
// Exactly n1..n<node_count>, each "On" or "Off"; invalid_input naming the node otherwise.
result<std::vector<power_state>> power_states_from_json(const json& j, int node_count);

// All On when the file does not exist (a new lab: every outlet is on).
result<std::vector<power_state>> read_power_states(const std::string& path, int node_count);
status write_power_states(const std::string& path, const std::vector<power_state>& states);

}  // namespace vcube::lab
