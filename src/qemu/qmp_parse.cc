#include "qemu/qmp_parse.h"

#include <array>
#include <utility>

namespace vcube::qemu {
namespace {

constexpr size_t excerpt_bytes_max = 80;

qmp_protocol_error protocol_error(qmp_error_kind kind, std::string what, std::string_view line) {
  return {kind, std::move(what) + ": " + qmp_excerpt(line)};
}

// nlohmann's parser recurses per nesting level; refuse deep nesting before
// handing it a line so that a hostile line cannot exhaust the stack.
bool nests_too_deep(std::string_view line) {
  int depth = 0;
  bool is_in_string = false;
  bool is_escaped = false;
  for (char c : line) {
    if (is_in_string) {
      if (is_escaped) {
        is_escaped = false;
      } else if (c == '\\') {
        is_escaped = true;
      } else if (c == '"') {
        is_in_string = false;
      }
    } else if (c == '"') {
      is_in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > qmp_json_depth_max)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t integer_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool bool_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

const json& object_at(const json& object, const char* key) {
  static const json empty = json::object();
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : empty;
}

qmp_greeting to_greeting(const json& message) {
  const json& qmp = object_at(message, "QMP");
  const json& version = object_at(qmp, "version");
  const json& qemu = object_at(version, "qemu");
  qmp_greeting greeting;
  greeting.major = static_cast<int>(integer_at(qemu, "major"));
  greeting.minor = static_cast<int>(integer_at(qemu, "minor"));
  greeting.micro = static_cast<int>(integer_at(qemu, "micro"));
  greeting.package = string_at(version, "package");
  auto capabilities = qmp.find("capabilities");
  if (capabilities != qmp.end() && capabilities->is_array()) {
    for (const json& capability : *capabilities) {
      if (capability.is_string())
        greeting.capabilities.push_back(capability.get<std::string>());
    }
  }
  return greeting;
}

qmp_raw_reply to_reply(const json& message) {
  qmp_raw_reply reply;
  auto id = message.find("id");
  if (id != message.end())
    reply.id = *id;
  auto error = message.find("error");
  reply.is_error = error != message.end();
  if (reply.is_error) {
    reply.error_class = string_at(object_at(message, "error"), "class");
    reply.error_description = string_at(object_at(message, "error"), "desc");
  } else {
    reply.return_value = message.at("return");
  }
  return reply;
}

qmp_event_kind event_kind(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, qmp_event_kind>, 7> kinds = {{
      {"SHUTDOWN", qmp_event_kind::shutdown},
      {"POWERDOWN", qmp_event_kind::powerdown},
      {"RESET", qmp_event_kind::reset},
      {"STOP", qmp_event_kind::stop},
      {"RESUME", qmp_event_kind::resume},
      {"GUEST_PANICKED", qmp_event_kind::guest_panicked},
      {"DEVICE_TRAY_MOVED", qmp_event_kind::device_tray_moved},
  }};
  for (const auto& [known, kind] : kinds) {
    if (name == known)
      return kind;
  }
  return qmp_event_kind::other;
}

qmp_event to_event(const json& message) {
  qmp_event event;
  event.name = message.at("event").get<std::string>();
  event.kind = event_kind(event.name);
  event.data = object_at(message, "data");
  const json& timestamp = object_at(message, "timestamp");
  event.timestamp_seconds = integer_at(timestamp, "seconds");
  event.timestamp_microseconds = integer_at(timestamp, "microseconds");
  event.is_guest_initiated = bool_at(event.data, "guest");
  event.reason = string_at(event.data, "reason");
  event.action = string_at(event.data, "action");
  event.device = string_at(event.data, "id");
  if (event.device.empty())
    event.device = string_at(event.data, "device");
  event.is_tray_open = bool_at(event.data, "tray-open");
  return event;
}

}  // namespace

std::string qmp_excerpt(std::string_view line) {
  std::string excerpt = "'";
  for (char c : line.substr(0, excerpt_bytes_max)) {
    const auto byte = static_cast<unsigned char>(c);
    excerpt += byte < 0x20 || byte >= 0x7f ? '?' : c;
  }
  return excerpt + (line.size() > excerpt_bytes_max ? "...'" : "'");
}

qmp_message parse_qmp_line(std::string_view line) {
  if (nests_too_deep(line))
    return protocol_error(qmp_error_kind::invalid_json, "JSON nested deeper than 64 levels", line);
  json message = json::parse(line, nullptr, false);
  if (message.is_discarded())
    return protocol_error(qmp_error_kind::invalid_json, "not valid JSON", line);
  if (!message.is_object())
    return protocol_error(qmp_error_kind::not_an_object, "a JSON value that is not an object",
                          line);
  if (message.contains("QMP"))
    return to_greeting(message);
  auto event = message.find("event");
  if (event != message.end() && event->is_string())
    return to_event(message);
  if (message.contains("return") || message.contains("error"))
    return to_reply(message);
  return protocol_error(qmp_error_kind::unrecognised, "neither a greeting, a reply nor an event",
                        line);
}

}  // namespace vcube::qemu
