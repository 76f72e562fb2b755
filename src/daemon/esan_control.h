// esan_control: vcubed's client of vcube-esand's control socket (docs/esan.md,
// "Control socket"): one JSON request per line, one JSON reply per line.
// Blocking, with a deadline: call it off the event loop.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"
#include "common/json.h"

namespace vcube::daemon {

// Sends `request` and returns the reply without its "ok" field. A refusal
// ({"ok": false}) becomes an error with esand's code and sentence;
// `unavailable` when nothing answers on `socket_path`.
result<json> esan_call(const std::string& socket_path, const json& request,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace vcube::daemon
