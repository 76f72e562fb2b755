// The manager's fence hooks on the real agents (src/fence): the domain's
// fence_device objects become fence::fence_device values, every agent call
// becomes a fence_log entry.
#include <spdlog/spdlog.h>

#include "daemon/ha_manager.h"
#include "fence/fencing.h"

namespace vcube::daemon {
namespace {

std::vector<fence::fence_device> parse_devices(const std::vector<domain::object>& objects) {
  std::vector<fence::fence_device> out;
  for (const auto& o : objects) {
    auto device = fence::parse_fence_device(o.name, o.value);
    if (device)
      out.push_back(std::move(*device));
    else
      spdlog::error("fence device {}: {}", o.name, device.err().message);
  }
  return out;
}

json log_entry(const fence::fence_attempt& a) {
  return {{"node", a.node},          {"device", a.device},          {"action", a.action},
          {"ok", a.is_ok},           {"exit_code", a.exit_code},    {"message", a.message},
          {"at", a.started_unix_ms}, {"duration_ms", a.duration_ms}};
}

}  // namespace

fence_hooks real_fence_hooks() {
  fence_hooks hooks;
  hooks.fence_off = [](const std::vector<domain::object>& objects, const std::string& node) {
    fence::fence_context context;
    auto result = fence::fence_off(context, parse_devices(objects), node);
    fence_hooks::outcome out{result.is_confirmed, result.message, {}};
    for (const auto& a : result.attempts)
      out.log.push_back(log_entry(a));
    return out;
  };
  hooks.monitor = [](const domain::object& object) -> status {
    auto device = fence::parse_fence_device(object.name, object.value);
    if (!device)
      return device.err();
    fence::fence_context context;
    return fence::monitor(context, *device);
  };
  return hooks;
}

}  // namespace vcube::daemon
