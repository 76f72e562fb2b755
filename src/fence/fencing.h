// Fencing policy over the agent runner: power a node off through its devices
// and only call it fenced when an agent's status confirms it is off.
// Blocking (each agent call waits up to its timeout): run on a worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "fence/agent_runner.h"
#include "fence/fence_device.h"

namespace vcube::fence {

// One agent call, for the fence history and alerts.
struct fence_attempt {
  std::string device;
  std::string node;  // empty for a device-wide call (monitor, list)
  std::string action;
  int exit_code = -1;   // -1: killed, timed out or not started
  bool is_ok = false;   // status: the exit code is 0 (on) or 2 (off); others: 0
  std::string message;  // the agent's stderr tail or why it did not run, <= 512 chars
  int64_t started_unix_ms = 0;
  int64_t duration_ms = 0;
};

struct fence_result {
  bool is_confirmed = false;  // a device turned the node off and its status said off
  std::vector<fence_attempt> attempts;
  std::string message;  // which device confirmed it, or why no device could
};

// The agent to run and the clocks, injectable for tests.
struct fence_context {
  agent_runner run = run_agent_process;
  fence_timeouts timeouts;
  std::function<int64_t()> now_unix_ms;  // empty: the system clock
};

// One call of `action` on `device` for `node` (empty: device-wide).
fence_attempt run_action(const fence_context& context, const fence_device& device,
                         const std::string& node, fence_action action);

// For each device covering `node` (devices_for_node order): `off`, then
// `status`, which must exit 2 (off). The first device that does both confirms
// the fence; a device that fails either step passes to the next one. No
// device covering the node: not confirmed, saying so.
fence_result fence_off(const fence_context& context, const std::vector<fence_device>& devices,
                       const std::string& node);

// The agent's `monitor` (device reachable, credentials accepted): ok, or
// unavailable with the agent's message.
status monitor(const fence_context& context, const fence_device& device);

}  // namespace vcube::fence
