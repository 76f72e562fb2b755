// What the NBD codec needs to know about an export, and what a client and the
// server agreed on in the handshake. Plain values; no I/O.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace vcube::esan::nbd {

inline constexpr uint32_t payload_bytes_max_default = 32U << 20;  // 32 MiB, the spec's portable max
inline constexpr uint32_t block_size_max_limit_bytes = 64U << 10;  // the spec caps the minimum here

struct export_description {
  std::string name;
  uint64_t size_bytes = 0;
  bool is_read_only = false;
  // Requests must be aligned to this when the client asked for block sizes.
  // A power of two in [1, 64 KiB] that divides size_bytes.
  uint32_t block_size_min_bytes = 512;
  uint32_t block_size_preferred_bytes = 4096;
  // Largest READ or WRITE payload accepted (and advertised as the maximum).
  uint32_t payload_bytes_max = payload_bytes_max_default;
};

// An error naming the field when the description breaks one of the rules above.
status validate(const export_description& d);

// The outcome of a successful handshake: the export and the options in force.
struct session {
  export_description exported;
  bool has_structured_replies = false;
  // The client asked for NBD_INFO_BLOCK_SIZE and so promised to honour the
  // minimum; otherwise the spec's default minimum of 1 byte applies.
  bool has_block_sizes = false;
  uint16_t transmission_flags = 0;

  uint32_t alignment_bytes() const { return has_block_sizes ? exported.block_size_min_bytes : 1; }
};

// Transmission flags advertised for `d` (structured replies allow DF).
uint16_t transmission_flags_for(const export_description& d, bool has_structured_replies);

}  // namespace vcube::esan::nbd
