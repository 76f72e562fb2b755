#include "esan/nbd_request.h"

namespace vcube::esan::nbd {
namespace {

parsed_request fail(const request& r, error_code e, std::string reason) {
  parsed_request p{verdict::reply_error, r, e, 0, std::move(reason)};
  if (r.has_payload())
    p.discard_bytes = r.length;
  return p;
}

bool is_known(uint16_t type) {
  switch (static_cast<command>(type)) {
    case command::read:
    case command::write:
    case command::disc:
    case command::flush:
    case command::trim:
    case command::write_zeroes:
      return true;
    default:
      return false;
  }
}

// The command flags this server accepts for each command (FUA on all: the
// spec says clients send it on commands that do not write).
uint16_t allowed_flags(command type, const session& s) {
  uint16_t allowed = cmd_flag_fua;
  if (type == command::read && s.has_structured_replies)
    allowed |= cmd_flag_df;
  if (type == command::write_zeroes)
    allowed |= cmd_flag_no_hole;
  return allowed;
}

bool is_write_like(command type) {
  return type == command::write || type == command::trim || type == command::write_zeroes;
}

parsed_request check_ranges(const request& r, const session& s) {
  const export_description& e = s.exported;
  if (r.type == command::flush) {
    if (r.offset != 0 || r.length != 0)
      return fail(r, error_code::einval, "FLUSH with a non-zero offset or length");
    return parsed_request{verdict::execute, r, error_code::none, 0, {}};
  }
  if ((r.type == command::read || r.type == command::write) && r.length > e.payload_bytes_max)
    return fail(r, error_code::einval,
                "request length " + std::to_string(r.length) + " exceeds the maximum of " +
                    std::to_string(e.payload_bytes_max) + " bytes");
  if (r.length > e.size_bytes || r.offset > e.size_bytes - r.length)
    return fail(r, r.type == command::write ? error_code::enospc : error_code::einval,
                "request [" + std::to_string(r.offset) + ", +" + std::to_string(r.length) +
                    ") goes past the end of the export (" + std::to_string(e.size_bytes) +
                    " bytes)");
  const uint32_t align = s.alignment_bytes();
  if (r.offset % align != 0 || r.length % align != 0)
    return fail(r, error_code::einval,
                "request not aligned to the minimum block size of " + std::to_string(align));
  if (is_write_like(r.type) && e.is_read_only)
    return fail(r, error_code::eperm, "the export is read-only");
  return parsed_request{verdict::execute, r, error_code::none, 0, {}};
}

}  // namespace

parsed_request parse_request(std::span<const std::byte> header, const session& s) {
  if (header.size() != request_header_bytes || get_u32(header, 0) != magic_request)
    return parsed_request{verdict::close, {}, error_code::none, 0, "bad request magic"};
  request r;
  r.flags = get_u16(header, 4);
  const uint16_t type = get_u16(header, 6);
  r.cookie = get_u64(header, 8);
  r.offset = get_u64(header, 16);
  r.length = get_u32(header, 24);
  r.type = static_cast<command>(type);
  // A WRITE's payload must be consumed to stay in step; one larger than the
  // limit is not worth reading, so the stream is abandoned instead.
  if (r.type == command::write && r.length > s.exported.payload_bytes_max)
    return parsed_request{verdict::close, r, error_code::none, 0,
                          "WRITE of " + std::to_string(r.length) + " bytes exceeds the maximum"};
  if (!is_known(type))
    return fail(r, error_code::einval, "unsupported command " + std::to_string(type));
  if ((r.flags & ~allowed_flags(r.type, s)) != 0)
    return fail(r, error_code::einval, "unsupported command flags " + std::to_string(r.flags));
  if (r.type == command::disc)
    return parsed_request{verdict::disconnect, r, error_code::none, 0, "client disconnected"};
  return check_ranges(r, s);
}

std::string encode_request(const request& r) {
  std::string out;
  put_u32(out, magic_request);
  put_u16(out, r.flags);
  put_u16(out, static_cast<uint16_t>(r.type));
  put_u64(out, r.cookie);
  put_u64(out, r.offset);
  put_u32(out, r.length);
  return out;
}

namespace {

void put_chunk_header(std::string& out, uint16_t flags, chunk_type type, uint64_t cookie,
                      uint32_t length) {
  put_u32(out, magic_structured_reply);
  put_u16(out, flags);
  put_u16(out, static_cast<uint16_t>(type));
  put_u64(out, cookie);
  put_u32(out, length);
}

}  // namespace

std::string encode_reply(const session& s, uint64_t cookie, error_code error,
                         std::string_view message) {
  std::string out;
  if (!s.has_structured_replies || error == error_code::none) {
    put_u32(out, magic_simple_reply);
    put_u32(out, static_cast<uint32_t>(error));
    put_u64(out, cookie);
    return out;
  }
  const std::string_view text = message.substr(0, 4096);
  put_chunk_header(out, reply_flag_done, chunk_type::error, cookie,
                   static_cast<uint32_t>(6 + text.size()));
  put_u32(out, static_cast<uint32_t>(error));
  put_u16(out, static_cast<uint16_t>(text.size()));
  out.append(text);
  return out;
}

std::string encode_read_reply_header(const session& s, uint64_t cookie, uint64_t offset,
                                     uint32_t length) {
  std::string out;
  if (!s.has_structured_replies) {
    put_u32(out, magic_simple_reply);
    put_u32(out, 0);
    put_u64(out, cookie);
    return out;
  }
  if (length == 0) {  // an OFFSET_DATA chunk must carry at least one byte
    put_chunk_header(out, reply_flag_done, chunk_type::none, cookie, 0);
    return out;
  }
  put_chunk_header(out, reply_flag_done, chunk_type::offset_data, cookie, 8 + length);
  put_u64(out, offset);
  return out;
}

}  // namespace vcube::esan::nbd
