// Running one fence agent once: the fence-agents calling convention. Options go
// on stdin as key=value lines (the device's shared options, then the node's,
// then action=X); the exit code is the result (status: 0 on, 2 off). Blocking:
// call from a worker thread, never from an event loop.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/error.h"
#include "fence/fence_device.h"

namespace vcube::fence {

enum class fence_action { off, on, reboot, status, monitor, list };
// "off", "on", ... as the agents spell them.
const char* action_name(fence_action action);

// Deadline per call; the whole agent process group is killed when it passes.
// The agents have their own waits (fencing.py: power_timeout 20 s after an
// off/on before it gives up), so power actions get more than queries.
struct fence_timeouts {
  std::chrono::milliseconds off = std::chrono::seconds(60);
  std::chrono::milliseconds on = std::chrono::seconds(120);
  std::chrono::milliseconds reboot = std::chrono::seconds(180);
  std::chrono::milliseconds query = std::chrono::seconds(30);  // status, monitor, list
  std::chrono::milliseconds for_action(fence_action action) const;
};

// What the agent reads on stdin: shared options, then `node`'s options (none
// when `node` is empty or not covered), then action=X; one key=value per line.
std::string render_agent_input(const fence_device& device, const std::string& node,
                               fence_action action);

struct agent_output {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // at most agent_output_bytes_max each
  std::string err;
};
inline constexpr std::size_t agent_output_bytes_max = 64 * 1024;

// Runs the executable at `path` with `input` on stdin. An error when it
// cannot be started (not_found when `path` does not exist) or timed out
// (errc::timeout). Injectable so the policy can be tested with a fake.
using agent_runner = std::function<result<agent_output>(
    const std::string& path, const std::string& input, std::chrono::milliseconds timeout)>;

// The real thing: env::run in its own process group, output bounded.
result<agent_output> run_agent_process(const std::string& path, const std::string& input,
                                       std::chrono::milliseconds timeout);

// The end of what the agent said, for a person: stderr's last lines (stdout's
// when stderr is empty), whitespace-trimmed, at most `chars_max` characters.
std::string output_tail(const agent_output& output, std::size_t chars_max = 512);

}  // namespace vcube::fence
