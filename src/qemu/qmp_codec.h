// qmp_codec: the client side of QMP as a pure state machine, in the style of
// etcd's raft. The caller owns the socket and the clock: it feeds bytes as they
// arrive (split anywhere), writes the lines the codec produces, and takes the
// output (greeting, replies, events, protocol errors) after each feed. No
// I/O, no time, no threads; not thread-safe (one owner).
//
//   awaiting_greeting --greeting--> negotiating --qmp_capabilities ok--> ready
//                                        \--refused--> failed
//
// Replies are matched to commands by the integer id encode_command() assigns;
// events are delivered apart from replies, each list in arrival order, with a
// shared sequence number for callers that need the interleaving.
// Deadlines are the caller's: pending() lists what is in flight, in submit
// order, and abandon() forgets a command whose deadline passed.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "qemu/qmp_line_buffer.h"
#include "qemu/qmp_messages.h"
#include "qemu/qmp_parse.h"

namespace vcube::qemu {

enum class qmp_state { awaiting_greeting, negotiating, ready, failed };
const char* qmp_state_name(qmp_state state);

struct qmp_limits {
  size_t line_bytes_max = 1024 * 1024;
  size_t pending_commands_max = 32;
};

// Everything the codec produced since the last take_output().
struct qmp_output {
  std::vector<std::string> lines_to_send;  // write these to the socket, in order
  std::optional<qmp_greeting> greeting;
  bool became_ready = false;  // qmp_capabilities succeeded; commands may be sent
  std::vector<qmp_reply> replies;
  std::vector<qmp_event> events;
  std::vector<qmp_protocol_error> errors;  // the stream continues after each
};

struct qmp_command {
  uint64_t id = 0;
  std::string line;  // one JSON object and '\n'; write it whole
};

struct qmp_pending_command {
  uint64_t id = 0;  // ids grow with submit order
  std::string name;
};

class qmp_codec {
 public:
  explicit qmp_codec(qmp_limits limits = {});

  // Consumes bytes read from the socket. Never fails: problems are reported
  // in take_output().errors. Ignored once failed.
  void feed(std::string_view bytes);

  qmp_output take_output();
  bool has_output() const;

  // Only when ready. Errors: unavailable (not ready, or pending_commands_max
  // commands in flight), invalid_input (a bad name, arguments not an object).
  [[nodiscard]] result<qmp_command> encode_command(std::string_view name,
                                                   const json& arguments = json::object());

  // Forgets a pending command; a late reply to it is then dropped silently.
  // False when `id` was not pending.
  bool abandon(uint64_t id);

  // In flight, oldest first (includes qmp_capabilities while negotiating).
  std::vector<qmp_pending_command> pending() const { return {pending_.begin(), pending_.end()}; }
  qmp_state state() const { return state_; }

 private:
  void handle_line(const qmp_line& line);
  void handle_greeting(const qmp_greeting& greeting);
  void handle_reply(const qmp_raw_reply& reply);
  void handle_negotiation_reply(const qmp_reply& reply);
  qmp_command make_command(std::string_view name, const json& arguments);
  void report(qmp_error_kind kind, std::string message);

  qmp_limits limits_;
  qmp_state state_ = qmp_state::awaiting_greeting;
  qmp_line_buffer lines_;
  uint64_t next_id_ = 1;
  uint64_t next_sequence_ = 1;
  std::optional<uint64_t> negotiation_id_;
  std::deque<qmp_pending_command> pending_;  // submit order
  std::deque<uint64_t> abandoned_;           // at most pending_commands_max
  qmp_output output_;
};

}  // namespace vcube::qemu
