// The lab's state file (/run/vcube-lab/state.json): what `lab up` built, for
// the commands that follow (status, exec, kill, start, partition, heal).
// `lab down` does not depend on it: it finds the lab's objects by name.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace vcube::lab {

struct lab_state {
  int nodes = 0;
  std::string subnet;         // "10.231.77.0/24"
  std::string password_file;  // admin password, mode 0600
  std::string vcube_exe;      // the vcube executable that built the lab
  // The power switch (lab_switch.h): https://127.0.0.1:<switch_port> inside
  // every node, Basic auth; node k's system is switch_systems_uri(k).
  std::string switch_username;
  std::string switch_password_file;  // mode 0600
  int switch_port = 0;
  // Derived, filled by lab_state_from_json / read_lab_state:
  std::vector<std::string> node_addresses;  // [0] is n1
  std::string admin_password;               // empty when the file is unreadable
  std::string switch_password;              // empty when the file is unreadable
};

json lab_state_to_json(const lab_state& state);
// Validates and derives node_addresses; does not read the password file.
result<lab_state> lab_state_from_json(const json& j);

// Reads /run/vcube-lab/state.json and the admin password. not_found with a
// hint to run `vcube lab up` when no lab exists.
result<lab_state> read_lab_state();
status write_lab_state(const lab_state& state);

}  // namespace vcube::lab
