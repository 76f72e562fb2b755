// Transmission-phase requests: parsing and validating the 28-byte header
// against what was negotiated, and encoding replies. Pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "esan/nbd_export.h"
#include "esan/nbd_protocol.h"

namespace vcube::esan::nbd {

struct request {
  command type = command::read;
  uint16_t flags = 0;
  uint64_t cookie = 0;  // the spec's "handle", echoed in the reply
  uint64_t offset = 0;
  uint32_t length = 0;

  bool is_fua() const { return (flags & cmd_flag_fua) != 0; }
  // Whether `length` payload bytes follow the header on the wire.
  bool has_payload() const { return type == command::write; }
};

enum class verdict {
  execute,      // a valid request: run it and reply
  reply_error,  // answer `error` (after discarding `discard_bytes` of payload)
  disconnect,   // NBD_CMD_DISC: finish in-flight requests, then close
  close,        // the stream cannot be trusted any more: close now
};

struct parsed_request {
  verdict what = verdict::execute;
  request req;
  error_code error = error_code::none;  // for reply_error
  uint32_t discard_bytes = 0;           // payload of a rejected WRITE still on the wire
  std::string reason;                   // for reply_error and close: a sentence for the log
};

// Parses and validates one request header (exactly request_header_bytes).
parsed_request parse_request(std::span<const std::byte> header, const session& s);

// Encodes a request header; for clients and tests.
std::string encode_request(const request& r);

// The reply to a request without data (anything but a successful READ).
// With structured replies an error carries `message` for a person to read.
std::string encode_reply(const session& s, uint64_t cookie, error_code error,
                         std::string_view message = {});
// The header that precedes `length` bytes of data read at `offset`.
std::string encode_read_reply_header(const session& s, uint64_t cookie, uint64_t offset,
                                     uint32_t length);

}  // namespace vcube::esan::nbd
