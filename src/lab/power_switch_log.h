// The lab power switch's request log: one line per connection, seven fields
// separated by single spaces, none of them empty or containing a space
// (docs/fencing.md; lab tests grep it, so the format is stable):
//
//   TIME FROM METHOD PATH SYSTEM ACTION RESULT
//   2026-12-01T11:10:39.648Z n1 POST /redfish/v1/Systems/n2/Actions/ComputerSystem.Reset n2
//   ForceOff 204
//
// TIME is UTC with milliseconds; FROM the node whose socket the connection
// came in on; METHOD and PATH "-" when no request was read; SYSTEM the node
// the path names or "-"; ACTION the ResetType or "-"; RESULT the HTTP status
// answered, "dropped" (the sender's outlet is off: closed unanswered) or
// "closed" (no complete request: TLS failure, timeout, peer went away).
// Other lines are notes from the switch itself: "TIME switch: text".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lab/power_switch_routes.h"

namespace vcube::lab {

struct switch_log_entry {
  int64_t unix_ms = 0;
  int from_node = 0;
  std::string method;  // empty: no request read
  std::string path;
  int system_node = 0;  // 0: none
  std::optional<reset_type> reset;
  std::string result;  // "204", "dropped", "closed"
};

// "2026-12-01T11:10:39.648Z"
std::string format_log_time(int64_t unix_ms);
// The line without its newline.
std::string format_switch_log_line(const switch_log_entry& entry);

}  // namespace vcube::lab
