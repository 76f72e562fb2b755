// qmp_messages: what the QMP codec hands to its caller, as plain values.
// QMP is specified in QEMU's docs/interop/qmp-spec.rst; events and their data
// in QEMU's qapi/*.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"

namespace vcube::qemu {

// The server's first message: {"QMP": {"version": {...}, "capabilities": [...]}}.
struct qmp_greeting {
  int major = 0;
  int minor = 0;
  int micro = 0;
  std::string package;                    // e.g. "Debian 1:7.2+dfsg-7"
  std::vector<std::string> capabilities;  // offered, never enabled by us (e.g. "oob")
};

// The answer to one command sent with encode_command().
struct qmp_reply {
  uint64_t id = 0;
  std::string command;    // the name it was sent with
  uint64_t sequence = 0;  // arrival order among replies and events
  bool is_error = false;
  json return_value;        // on success (often {})
  std::string error_class;  // on error, e.g. "GenericError", "DeviceNotFound"
  std::string error_description;
};

enum class qmp_event_kind {
  shutdown,           // the VM is going away; see is_guest_initiated/reason
  powerdown,          // an ACPI power button press was delivered
  reset,              // see is_guest_initiated/reason
  stop,               // vCPUs paused
  resume,             // vCPUs running again
  guest_panicked,     // see action
  device_tray_moved,  // see device and is_tray_open
  other,              // any other event: read name and data
};

struct qmp_event {
  qmp_event_kind kind = qmp_event_kind::other;
  std::string name;       // as sent, e.g. "SHUTDOWN", "BLOCK_JOB_COMPLETED"
  json data;              // the event's "data" object ({} when absent)
  uint64_t sequence = 0;  // arrival order among replies and events
  int64_t timestamp_seconds = 0;
  int64_t timestamp_microseconds = 0;
  // SHUTDOWN and RESET
  bool is_guest_initiated = false;  // data.guest
  std::string reason;               // data.reason: "guest-shutdown", "host-qmp-quit", ...
  // GUEST_PANICKED
  std::string action;  // data.action: "pause", "poweroff", "run"
  // DEVICE_TRAY_MOVED
  std::string device;  // data.id (the device id, e.g. "cdrom0"), else data.device
  bool is_tray_open = false;
};

enum class qmp_error_kind {
  invalid_json,        // a line that does not parse (or nests deeper than 64)
  not_an_object,       // valid JSON, but not an object
  unrecognised,        // an object that is no greeting, reply or event
  oversize_line,       // a line over the limit; skipped up to its end
  unknown_id,          // a reply whose id matches no command in flight
  reply_without_id,    // QEMU could not read a command of ours
  unexpected_message,  // e.g. a second greeting, or a message before the greeting
  negotiation_failed,  // qmp_capabilities was refused; the codec is now failed
};

struct qmp_protocol_error {
  qmp_error_kind kind = qmp_error_kind::invalid_json;
  std::string message;  // names what was wrong and quotes the start of the line
};

const char* qmp_error_kind_name(qmp_error_kind kind);

}  // namespace vcube::qemu
