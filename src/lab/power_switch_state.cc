#include "lab/power_switch_state.h"

#include "env/files.h"
#include "lab/names.h"

namespace vcube::lab {

json power_states_to_json(const std::vector<power_state>& states) {
  json j = json::object();
  for (std::size_t i = 0; i < states.size(); ++i)
    j[node_name(static_cast<int>(i) + 1)] = power_state_name(states[i]);
  return j;
}

result<std::vector<power_state>> power_states_from_json(const json& j, int node_count) {
  if (!j.is_object() || j.size() != static_cast<std::size_t>(node_count))
    return make_error(errc::invalid_input, "expected the power state of n1..n" +
                                               std::to_string(node_count) + " and nothing else");
  std::vector<power_state> states;
  for (int k = 1; k <= node_count; ++k) {
    auto it = j.find(node_name(k));
    if (it == j.end() || !it->is_string() || (*it != "On" && *it != "Off"))
      return make_error(errc::invalid_input, node_name(k) + " must be \"On\" or \"Off\"",
                        node_name(k));
    states.push_back(*it == "On" ? power_state::on : power_state::off);
  }
  return states;
}

result<std::vector<power_state>> read_power_states(const std::string& path, int node_count) {
  if (!env::file_exists(path))
    return std::vector<power_state>(static_cast<std::size_t>(node_count), power_state::on);
  auto text = env::read_file(path);
  if (!text)
    return text.err();
  auto j = parse_json(*text);
  if (!j)
    return make_error(errc::internal, path + ": " + j.err().message);
  auto states = power_states_from_json(*j, node_count);
  if (!states)
    return make_error(errc::internal, path + ": " + states.err().message);
  return states;
}

status write_power_states(const std::string& path, const std::vector<power_state>& states) {
  return env::write_file_atomic(path, power_states_to_json(states).dump() + "\n", 0600);
}

}  // namespace vcube::lab
