#include "lab/lab_state.h"

#include "env/files.h"
#include "lab/names.h"
#include "lab/subnet.h"

namespace vcube::lab {

json lab_state_to_json(const lab_state& state) {
  return json{{"nodes", state.nodes},
              {"subnet", state.subnet},
              {"password_file", state.password_file},
              {"vcube_exe", state.vcube_exe}};
}

result<lab_state> lab_state_from_json(const json& j) {
  auto known = reject_unknown_fields(j, {"nodes", "subnet", "password_file", "vcube_exe"}, "");
  if (!known)
    return known.err();
  lab_state state;
  try {
    state.nodes = j.at("nodes").get<int>();
    state.subnet = j.at("subnet").get<std::string>();
    state.password_file = j.at("password_file").get<std::string>();
    state.vcube_exe = j.value("vcube_exe", std::string());
  } catch (const json::exception& e) {
    return make_error(errc::invalid_input, std::string("lab state: ") + e.what());
  }
  if (state.nodes < nodes_min || state.nodes > nodes_max)
    return make_error(errc::invalid_input, "lab state: node count out of range", "nodes");
  auto subnet = parse_subnet(state.subnet);
  if (!subnet)
    return subnet.err();
  for (int k = 1; k <= state.nodes; ++k)
    state.node_addresses.push_back(node_address(*subnet, k));
  return state;
}

result<lab_state> read_lab_state() {
  auto text = env::read_file(state_file);
  if (!text) {
    if (text.err().code == errc::not_found)
      return make_error(errc::not_found, "no lab is running (no " + std::string(state_file) +
                                             "); start one with `vcube lab up`");
    return text.err();
  }
  auto j = parse_json(*text);
  if (!j)
    return make_error(errc::internal, std::string(state_file) + ": " + j.err().message);
  auto state = lab_state_from_json(*j);
  if (!state)
    return make_error(errc::internal, std::string(state_file) + ": " + state.err().message);
  auto password = env::read_file(state->password_file);
  if (password) {
    state->admin_password = *password;
    while (!state->admin_password.empty() && state->admin_password.back() == '\n')
      state->admin_password.pop_back();
  }
  return state;
}

status write_lab_state(const lab_state& state) {
  return env::write_file_atomic(state_file, lab_state_to_json(state).dump(2) + "\n", 0600);
}

}  // namespace vcube::lab
