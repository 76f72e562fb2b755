#include "fence/fencing.h"

#include <chrono>

namespace vcube::fence {
namespace {

constexpr int status_exit_on = 0;
constexpr int status_exit_off = 2;
constexpr std::size_t message_chars_max = 512;

int64_t system_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_success(fence_action action, int exit_code) {
  if (action == fence_action::status)
    return exit_code == status_exit_on || exit_code == status_exit_off;
  return exit_code == 0;
}

std::string clip(std::string text) {
  if (text.size() > message_chars_max)
    text.resize(message_chars_max);
  return text;
}

std::string describe_failure(const fence_attempt& a) {
  return a.device + " " + a.action + ": " +
         (a.message.empty() ? "exit " + std::to_string(a.exit_code) : a.message);
}

}  // namespace

fence_attempt run_action(const fence_context& context, const fence_device& device,
                         const std::string& node, fence_action action) {
  auto now_unix_ms = context.now_unix_ms ? context.now_unix_ms : system_unix_ms;
  fence_attempt attempt;
  attempt.device = device.name;
  attempt.node = node;
  attempt.action = action_name(action);
  attempt.started_unix_ms = now_unix_ms();
  auto started = std::chrono::steady_clock::now();
  auto output = context.run(agent_path(device.agent), render_agent_input(device, node, action),
                            context.timeouts.for_action(action));
  attempt.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
  if (!output) {
    attempt.message = clip(output.err().message);
    return attempt;
  }
  attempt.exit_code = output->exit_code;
  attempt.is_ok = is_success(action, output->exit_code);
  attempt.message = output_tail(*output, message_chars_max);
  return attempt;
}

fence_result fence_off(const fence_context& context, const std::vector<fence_device>& devices,
                       const std::string& node) {
  fence_result result;
  auto covering = devices_for_node(devices, node);
  if (covering.empty()) {
    result.message = "no fence device covers " + node;
    return result;
  }
  std::string failures;
  for (const auto& device : covering) {
    auto off = run_action(context, device, node, fence_action::off);
    result.attempts.push_back(off);
    if (!off.is_ok) {
      failures += (failures.empty() ? "" : "; ") + describe_failure(off);
      continue;
    }
    auto status = run_action(context, device, node, fence_action::status);
    result.attempts.push_back(status);
    if (status.exit_code == status_exit_off) {
      result.is_confirmed = true;
      result.message = clip(node + " is off, confirmed by " + device.name + " (" + device.agent +
                            ", level " + std::to_string(device.level) + ")");
      return result;
    }
    // Exit 0 means the agent still sees it on: the off did not take.
    failures += (failures.empty() ? "" : "; ") + (status.exit_code == status_exit_on
                                                      ? device.name + " status: still on after off"
                                                      : describe_failure(status));
  }
  result.message = clip("no device confirmed " + node + " off: " + failures);
  return result;
}

status monitor(const fence_context& context, const fence_device& device) {
  auto attempt = run_action(context, device, "", fence_action::monitor);
  if (attempt.is_ok)
    return ok_status();
  return make_error(errc::unavailable,
                    "fence device " + device.name + " (" + device.agent + ") monitor failed: " +
                        (attempt.message.empty() ? "exit " + std::to_string(attempt.exit_code)
                                                 : attempt.message));
}

}  // namespace vcube::fence
