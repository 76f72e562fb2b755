// NBD wire constants (the NetworkBlockDevice project's doc/proto.md) and the
// big-endian byte helpers every codec here uses. Values only; no behaviour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vcube::esan::nbd {

inline constexpr uint64_t magic_nbd = 0x4e42444d41474943ULL;     // "NBDMAGIC"
inline constexpr uint64_t magic_option = 0x49484156454f5054ULL;  // "IHAVEOPT"
inline constexpr uint64_t magic_option_reply = 0x3e889045565a9ULL;
inline constexpr uint32_t magic_request = 0x25609513;
inline constexpr uint32_t magic_simple_reply = 0x67446698;
inline constexpr uint32_t magic_structured_reply = 0x668e33ef;

// Handshake flags (server) and client flags.
inline constexpr uint16_t flag_fixed_newstyle = 1 << 0;
inline constexpr uint16_t flag_no_zeroes = 1 << 1;
inline constexpr uint32_t flag_c_fixed_newstyle = 1 << 0;
inline constexpr uint32_t flag_c_no_zeroes = 1 << 1;

// Transmission flags.
inline constexpr uint16_t flag_has_flags = 1 << 0;
inline constexpr uint16_t flag_read_only = 1 << 1;
inline constexpr uint16_t flag_send_flush = 1 << 2;
inline constexpr uint16_t flag_send_fua = 1 << 3;
inline constexpr uint16_t flag_send_trim = 1 << 5;
inline constexpr uint16_t flag_send_write_zeroes = 1 << 6;
inline constexpr uint16_t flag_send_df = 1 << 7;
inline constexpr uint16_t flag_can_multi_conn = 1 << 8;

enum class option : uint32_t {
  export_name = 1,
  abort = 2,
  list = 3,
  starttls = 5,
  info = 6,
  go = 7,
  structured_reply = 8,
};

inline constexpr uint32_t rep_error_bit = 1U << 31;
enum class option_reply : uint32_t {
  ack = 1,
  server = 2,
  info = 3,
  err_unsup = rep_error_bit + 1,
  err_policy = rep_error_bit + 2,
  err_invalid = rep_error_bit + 3,
  err_tls_reqd = rep_error_bit + 5,
  err_unknown = rep_error_bit + 6,
  err_shutdown = rep_error_bit + 7,
  err_block_size_reqd = rep_error_bit + 8,
  err_too_big = rep_error_bit + 9,
};

enum class info_type : uint16_t {
  export_info = 0,
  name = 1,
  description = 2,
  block_size = 3,
};

enum class command : uint16_t {
  read = 0,
  write = 1,
  disc = 2,
  flush = 3,
  trim = 4,
  cache = 5,
  write_zeroes = 6,
  block_status = 7,
};

// Command flags.
inline constexpr uint16_t cmd_flag_fua = 1 << 0;
inline constexpr uint16_t cmd_flag_no_hole = 1 << 1;
inline constexpr uint16_t cmd_flag_df = 1 << 2;
inline constexpr uint16_t cmd_flag_req_one = 1 << 3;
inline constexpr uint16_t cmd_flag_fast_zero = 1 << 4;

// Structured reply chunk flags and types.
inline constexpr uint16_t reply_flag_done = 1 << 0;
enum class chunk_type : uint16_t {
  none = 0,
  offset_data = 1,
  error = (1 << 15) + 1,
};

// Errors in replies (errno values fixed by the protocol, not by the host).
enum class error_code : uint32_t {
  none = 0,
  eperm = 1,
  eio = 5,
  enomem = 12,
  einval = 22,
  enospc = 28,
  eoverflow = 75,
  enotsup = 95,
  eshutdown = 108,
};

inline constexpr size_t request_header_bytes = 28;
inline constexpr size_t simple_reply_header_bytes = 16;
inline constexpr size_t structured_reply_header_bytes = 20;
inline constexpr size_t export_name_zeroes_bytes = 124;

// Big-endian encoding, appended to `out`.
void put_u16(std::string& out, uint16_t v);
void put_u32(std::string& out, uint32_t v);
void put_u64(std::string& out, uint64_t v);
// Big-endian decoding; the caller guarantees enough bytes at `at`.
uint16_t get_u16(std::span<const std::byte> in, size_t at);
uint32_t get_u32(std::span<const std::byte> in, size_t at);
uint64_t get_u64(std::span<const std::byte> in, size_t at);

}  // namespace vcube::esan::nbd
