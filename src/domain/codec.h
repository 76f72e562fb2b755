// The domain messages exchanged over corosync CPG, and their encoding:
// the 4 bytes "VCD1" followed by one compact JSON object whose "type" field
// names the message (docs/domain.md has the fields). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"
#include "domain/types.h"

namespace vcube::domain {

inline constexpr size_t message_bytes_max = 1024 * 1024;
inline constexpr size_t state_chunk_bytes_max = 256 * 1024;
inline constexpr size_t state_parts_max = 4096;  // snapshots up to 1 GiB
inline constexpr size_t members_max = 1024;
inline constexpr size_t json_depth_max = 32;

// A write request multicast by its origin; every member applies it.
struct write_message {
  uint32_t origin_node = 0;
  uint64_t session_nonce = 0;  // random per vcubed process: tells restarts apart
  uint64_t request_id = 0;
  write_request request;
  friend bool operator==(const write_message&, const write_message&) = default;
};

// Sent by every member when a sync round starts: its state for that round.
struct summary_message {
  std::vector<uint32_t> members;  // the membership (sorted) this answers
  uint64_t round = 0;             // sync round within that membership
  uint64_t version = 0;
  std::string checksum;
  // The sender has been synced in a quorate membership since its vcubed
  // started: its copy followed the cluster. A node fresh from a restart (a
  // fenced node powered on again) may hold a copy from before it was cut off.
  bool has_synced = false;
  friend bool operator==(const summary_message&, const summary_message&) = default;
};

// One part of the sync source's snapshot (JSON text, ASCII, split in chunks).
struct state_message {
  uint32_t source_node = 0;
  std::vector<uint32_t> members;
  uint64_t round = 0;
  uint32_t part = 0;   // 0-based
  uint32_t parts = 0;  // total, >= 1
  std::string chunk;   // <= state_chunk_bytes_max
  friend bool operator==(const state_message&, const state_message&) = default;
};

struct check_message {
  uint32_t initiator = 0;
  uint64_t seq = 0;
  friend bool operator==(const check_message&, const check_message&) = default;
};

struct check_reply_message {
  uint32_t initiator = 0;
  uint64_t seq = 0;
  uint64_t version = 0;
  std::string checksum;
  friend bool operator==(const check_reply_message&, const check_reply_message&) = default;
};

using message =
    std::variant<write_message, summary_message, state_message, check_message, check_reply_message>;

std::string encode(const message& m);
// Any malformed input (bad magic, bad JSON, too deep, wrong types, missing or
// unknown fields, out-of-range values, over message_bytes_max) is an
// invalid_input error; it never throws.
result<message> decode(std::string_view payload);

}  // namespace vcube::domain
