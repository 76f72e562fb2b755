// qmp_parse: one line from a QMP server into a typed message. Pure; never
// throws; anything malformed becomes a qmp_protocol_error.
#pragma once

#include <string_view>
#include <variant>

#include "qemu/qmp_messages.h"

namespace vcube::qemu {

inline constexpr int qmp_json_depth_max = 64;

// A reply before it is matched to a command: the id is whatever the server
// echoed (null when it had none).
struct qmp_raw_reply {
  json id;
  bool is_error = false;
  json return_value;
  std::string error_class;
  std::string error_description;
};

using qmp_message = std::variant<qmp_greeting, qmp_raw_reply, qmp_event, qmp_protocol_error>;

qmp_message parse_qmp_line(std::string_view line);

// The start of a line, printable, for error messages.
std::string qmp_excerpt(std::string_view line);

}  // namespace vcube::qemu
