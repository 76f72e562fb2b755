// Client-side encoding and reply decoding for the NBD codec tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "esan/nbd_protocol.h"

namespace vcube::esan::nbd::testing {

inline std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline std::string client_flags(uint32_t flags) {
  std::string out;
  put_u32(out, flags);
  return out;
}

inline std::string option_request(uint32_t opt, const std::string& data) {
  std::string out;
  put_u64(out, magic_option);
  put_u32(out, opt);
  put_u32(out, static_cast<uint32_t>(data.size()));
  return out + data;
}

inline std::string option_request(option opt, const std::string& data = {}) {
  return option_request(static_cast<uint32_t>(opt), data);
}

// INFO/GO data: the export name and the information types requested.
inline std::string go_data(const std::string& name, const std::vector<uint16_t>& infos) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(name.size()));
  out += name;
  put_u16(out, static_cast<uint16_t>(infos.size()));
  for (uint16_t i : infos)
    put_u16(out, i);
  return out;
}

struct option_reply_message {
  uint32_t opt = 0;
  uint32_t type = 0;
  std::string data;
};

// Splits option replies; stops at the first malformed one (returned as is).
inline std::vector<option_reply_message> parse_option_replies(const std::string& out) {
  std::vector<option_reply_message> replies;
  const auto in = bytes_of(out);
  size_t at = 0;
  while (at + 20 <= in.size() && get_u64(in, at) == magic_option_reply) {
    const uint32_t length = get_u32(in, at + 16);
    if (at + 20 + length > in.size())
      break;
    replies.push_back({get_u32(in, at + 8), get_u32(in, at + 12), out.substr(at + 20, length)});
    at += 20 + length;
  }
  return replies;
}

inline uint32_t type_of(option_reply r) {
  return static_cast<uint32_t>(r);
}

}  // namespace vcube::esan::nbd::testing
