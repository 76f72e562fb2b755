// The lab's power switch process (power_switch_server.h) on the lab host:
// `vcube lab switch` runs it in the foreground; lab_up starts it detached
// once the namespaces exist, lab_down stops it. Inside every node it is at
// https://127.0.0.1:8443 (Basic auth: admin and the password in
// /run/vcube-lab/switch.password, also in the lab state), node k's system
// is switch_systems_uri(k). docs/fencing.md has the fence device to register.
#pragma once

#include <optional>

#include "common/error.h"
#include "lab/lab_state.h"
#include "lab/power_switch_routes.h"

namespace vcube::lab {

inline constexpr int switch_port = 8443;
inline constexpr const char* switch_username = "admin";
inline constexpr const char* switch_password_file = "/run/vcube-lab/switch.password";
inline constexpr const char* switch_state_file = "/run/vcube-lab/switch-state.json";
inline constexpr const char* switch_log_file = "/run/vcube-lab/switch.log";
inline constexpr const char* switch_pid_file = "/run/vcube-lab/switch.pid";

// `vcube lab switch`: serves every node of the running lab until SIGTERM or
// SIGINT; ForceOff is lab_kill, On is lab_start. Writes the pid file once
// it listens and removes it when it ends.
status run_lab_switch();

// Starts `vcube lab switch` detached (log in switch_log_file) and waits until
// it listens; an error quoting its log when it does not.
status start_lab_switch(const lab_state& state);

// SIGTERM to the running switch (SIGKILL after a grace period); ok when none runs.
status stop_lab_switch();

// The pid of the running switch (from the pid file, checked against /proc).
std::optional<int> lab_switch_pid();

}  // namespace vcube::lab
