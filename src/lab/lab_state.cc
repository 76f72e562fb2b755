#include "lab/lab_state.h"

#include "env/files.h"
#include "lab/names.h"
#include "lab/subnet.h"

namespace vcube::lab {
namespace {

// The file's first line; empty when it cannot be read.
std::string read_secret(const std::string& path) {
  auto text = env::read_file(path);
  if (!text)
    return {};
  std::string secret = *text;
  while (!secret.empty() && secret.back() == '\n')
    secret.pop_back();
  return secret;
}

}  // namespace

json lab_state_to_json(const lab_state& state) {
  return json{{"nodes", state.nodes},
              {"subnet", state.subnet},
              {"password_file", state.password_file},
              {"vcube_exe", state.vcube_exe},
              {"switch_username", state.switch_username},
              {"switch_password_file", state.switch_password_file},
              {"switch_port", state.switch_port}};
}

result<lab_state> lab_state_from_json(const json& j) {
  auto known = reject_unknown_fields(j,
                                     {"nodes", "subnet", "password_file", "vcube_exe",
                                      "switch_username", "switch_password_file", "switch_port"},
                                     "");
  if (!known)
    return known.err();
  lab_state state;
  try {
    state.nodes = j.at("nodes").get<int>();
    state.subnet = j.at("subnet").get<std::string>();
    state.password_file = j.at("password_file").get<std::string>();
    state.vcube_exe = j.value("vcube_exe", std::string());
    state.switch_username = j.value("switch_username", std::string());
    state.switch_password_file = j.value("switch_password_file", std::string());
    state.switch_port = j.value("switch_port", 0);
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
  state->admin_password = read_secret(state->password_file);
  if (!state->switch_password_file.empty())
    state->switch_password = read_secret(state->switch_password_file);
  return state;
}

status write_lab_state(const lab_state& state) {
  return env::write_file_atomic(state_file, lab_state_to_json(state).dump(2) + "\n", 0600);
}

}  // namespace vcube::lab
