#include "qemu/qmp_codec.h"

#include <algorithm>
#include <variant>

namespace vcube::qemu {
namespace {

constexpr size_t command_name_bytes_max = 128;

// QMP command names: lower-case words joined by '-' or '_' ("query-status",
// "qmp_capabilities", "x-exit-preconfig").
bool is_command_name(std::string_view name) {
  if (name.empty() || name.size() > command_name_bytes_max)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

const char* qmp_state_name(qmp_state state) {
  switch (state) {
    case qmp_state::awaiting_greeting:
      return "awaiting_greeting";
    case qmp_state::negotiating:
      return "negotiating";
    case qmp_state::ready:
      return "ready";
    case qmp_state::failed:
      return "failed";
  }
  return "unknown";
}

qmp_codec::qmp_codec(qmp_limits limits) : limits_(limits), lines_(limits.line_bytes_max) {}

void qmp_codec::feed(std::string_view bytes) {
  if (state_ == qmp_state::failed)
    return;
  for (const qmp_line& line : lines_.feed(bytes)) {
    if (state_ == qmp_state::failed)
      return;
    handle_line(line);
  }
}

qmp_output qmp_codec::take_output() {
  return std::exchange(output_, qmp_output{});
}

bool qmp_codec::has_output() const {
  const qmp_output& o = output_;
  return !o.lines_to_send.empty() || o.greeting || o.became_ready || !o.replies.empty() ||
         !o.events.empty() || !o.errors.empty();
}

result<qmp_command> qmp_codec::encode_command(std::string_view name, const json& arguments) {
  if (state_ != qmp_state::ready)
    return make_error(errc::unavailable, std::string("QMP is not ready (") +
                                             qmp_state_name(state_) + "); wait for became_ready");
  if (pending_.size() >= limits_.pending_commands_max)
    return make_error(errc::unavailable, "too many QMP commands in flight (" +
                                             std::to_string(limits_.pending_commands_max) +
                                             "); wait for replies or abandon some");
  if (!is_command_name(name))
    return make_error(errc::invalid_input, "'" + std::string(name) + "' is not a QMP command name",
                      "name");
  if (!arguments.is_object())
    return make_error(errc::invalid_input, "QMP arguments must be a JSON object", "arguments");
  return make_command(name, arguments);
}

bool qmp_codec::abandon(uint64_t id) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [id](const qmp_pending_command& p) { return p.id == id; });
  if (it == pending_.end())
    return false;
  pending_.erase(it);
  abandoned_.push_back(id);
  if (abandoned_.size() > limits_.pending_commands_max)
    abandoned_.pop_front();
  return true;
}

qmp_command qmp_codec::make_command(std::string_view name, const json& arguments) {
  const uint64_t id = next_id_++;
  json message = {{"execute", name}, {"id", id}};
  if (!arguments.empty())
    message["arguments"] = arguments;
  // replace: a string that is not UTF-8 must not throw; QEMU would refuse it anyway.
  std::string line = message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  pending_.push_back({id, std::string(name)});
  return {id, std::move(line)};
}

void qmp_codec::report(qmp_error_kind kind, std::string message) {
  output_.errors.push_back({kind, std::move(message)});
}

void qmp_codec::handle_line(const qmp_line& line) {
  if (line.is_oversize) {
    report(qmp_error_kind::oversize_line,
           "a QMP line longer than " + std::to_string(limits_.line_bytes_max) + " bytes; skipped");
    return;
  }
  if (line.text.find_first_not_of(" \t\r") == std::string::npos)
    return;
  qmp_message message = parse_qmp_line(line.text);
  if (auto* error = std::get_if<qmp_protocol_error>(&message)) {
    output_.errors.push_back(std::move(*error));
  } else if (auto* greeting = std::get_if<qmp_greeting>(&message)) {
    handle_greeting(*greeting);
  } else if (state_ == qmp_state::awaiting_greeting) {
    report(qmp_error_kind::unexpected_message,
           "a message before the QMP greeting: " + qmp_excerpt(line.text));
  } else if (auto* reply = std::get_if<qmp_raw_reply>(&message)) {
    handle_reply(*reply);
  } else {
    qmp_event& event = std::get<qmp_event>(message);
    event.sequence = next_sequence_++;
    output_.events.push_back(std::move(event));
  }
}

void qmp_codec::handle_greeting(const qmp_greeting& greeting) {
  if (state_ != qmp_state::awaiting_greeting) {
    report(qmp_error_kind::unexpected_message, "a second QMP greeting; ignored");
    return;
  }
  output_.greeting = greeting;
  state_ = qmp_state::negotiating;
  qmp_command command = make_command("qmp_capabilities", json::object());
  negotiation_id_ = command.id;
  output_.lines_to_send.push_back(std::move(command.line));
}

void qmp_codec::handle_reply(const qmp_raw_reply& raw) {
  if (raw.id.is_null()) {
    report(qmp_error_kind::reply_without_id,
           "QEMU could not read a command: " + raw.error_class + ": " + raw.error_description);
    return;
  }
  const uint64_t id = raw.id.is_number_unsigned() ? raw.id.get<uint64_t>() : 0;
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [id](const qmp_pending_command& p) { return p.id == id; });
  if (it == pending_.end()) {
    if (id == 0 || std::find(abandoned_.begin(), abandoned_.end(), id) == abandoned_.end())
      report(qmp_error_kind::unknown_id,
             "a QMP reply with id " + raw.id.dump() + " that matches no command in flight");
    return;
  }
  qmp_reply reply{id,
                  std::move(it->name),
                  0,
                  raw.is_error,
                  raw.return_value,
                  raw.error_class,
                  raw.error_description};
  pending_.erase(it);
  if (negotiation_id_ == id) {
    handle_negotiation_reply(reply);
    return;
  }
  reply.sequence = next_sequence_++;
  output_.replies.push_back(std::move(reply));
}

void qmp_codec::handle_negotiation_reply(const qmp_reply& reply) {
  negotiation_id_.reset();
  if (reply.is_error) {
    state_ = qmp_state::failed;
    report(qmp_error_kind::negotiation_failed,
           "QEMU refused qmp_capabilities: " + reply.error_class + ": " + reply.error_description);
    return;
  }
  state_ = qmp_state::ready;
  output_.became_ready = true;
}

}  // namespace vcube::qemu
