// A QEMU 7.2 QMP session as the server sends it, and helpers to drive a codec.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "qemu/qmp_codec.h"

namespace vcube::qemu::testing {

inline const std::string greeting_line =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
    "\"package\": \"Debian 1:7.2+dfsg-7+deb12u18\"}, \"capabilities\": [\"oob\"]}}\r\n";
inline const std::string capabilities_ok_line = "{\"return\": {}, \"id\": 1}\r\n";

// After "query-status" (id 2) and "system_powerdown" (id 3): the POWERDOWN
// event comes before both replies, which come out of order, then SHUTDOWN.
inline const std::string session_lines =
    "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, \"event\": "
    "\"POWERDOWN\"}\r\n"
    "{\"return\": {}, \"id\": 3}\r\n"
    "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, "
    "\"id\": 2}\r\n"
    "{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 5}, \"event\": \"SHUTDOWN\", "
    "\"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}\r\n";

// A codec past the greeting and qmp_capabilities.
inline qmp_codec ready_codec(qmp_limits limits = {}) {
  qmp_codec codec(limits);
  codec.feed(greeting_line + capabilities_ok_line);
  qmp_output output = codec.take_output();
  EXPECT_TRUE(output.became_ready);
  EXPECT_EQ(codec.state(), qmp_state::ready);
  return codec;
}

inline uint64_t send(qmp_codec& codec, std::string_view name, const json& arguments = {}) {
  auto command = codec.encode_command(name, arguments.is_null() ? json::object() : arguments);
  EXPECT_TRUE(command.ok()) << command.err().message;
  return command.ok() ? command->id : 0;
}

// The output as one line per item, in a fixed order, for comparisons.
inline std::string describe(const qmp_output& output) {
  std::string text;
  for (const auto& line : output.lines_to_send)
    text += "send " + line;
  if (output.greeting)
    text += "greeting " + std::to_string(output.greeting->minor) + "\n";
  if (output.became_ready)
    text += "ready\n";
  for (const auto& r : output.replies)
    text += "reply #" + std::to_string(r.sequence) + " id " + std::to_string(r.id) + " " +
            r.command + " " + (r.is_error ? r.error_class : r.return_value.dump()) + "\n";
  for (const auto& e : output.events)
    text += "event #" + std::to_string(e.sequence) + " " + e.name + " " + e.data.dump() + "\n";
  for (const auto& e : output.errors)
    text += std::string("error ") + qmp_error_kind_name(e.kind) + " " + e.message + "\n";
  return text;
}

}  // namespace vcube::qemu::testing
