// Framing of the handshake: greeting, client flags, option headers, option
// data (or skipping it). The options themselves are in nbd_handshake_options.cc.
#include "esan/nbd_handshake.h"

#include <algorithm>

namespace vcube::esan::nbd {
namespace {

constexpr size_t client_flags_bytes = 4;
constexpr size_t option_header_bytes = 16;

}  // namespace

handshake::handshake(std::vector<export_description> exports, handshake_limits limits)
    : exports_(std::move(exports)), limits_(limits) {
  put_u64(output_, magic_nbd);
  put_u64(output_, magic_option);
  put_u16(output_, flag_fixed_newstyle | flag_no_zeroes);
  wanted_bytes_ = client_flags_bytes;
}

size_t handshake::feed(std::span<const std::byte> bytes) {
  size_t used = 0;
  while (state_ == handshake_state::negotiating && used < bytes.size()) {
    const size_t available = bytes.size() - used;
    if (stage_ == stage::discarding) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(discard_bytes_, available));
      discard_bytes_ -= n;
      used += n;
      if (discard_bytes_ == 0) {
        stage_ = stage::option_header;
        wanted_bytes_ = option_header_bytes;
        reply_error(
            option_reply::err_too_big,
            "option data longer than " + std::to_string(limits_.option_data_bytes_max) + " bytes");
      }
      continue;
    }
    const size_t n = std::min(wanted_bytes_ - buffer_.size(), available);
    buffer_.insert(buffer_.end(), bytes.begin() + used, bytes.begin() + used + n);
    used += n;
    if (buffer_.size() == wanted_bytes_)
      on_complete();
  }
  return used;
}

std::string handshake::take_output() {
  std::string out;
  out.swap(output_);
  return out;
}

void handshake::on_complete() {
  switch (stage_) {
    case stage::client_flags:
      on_client_flags();
      break;
    case stage::option_header:
      on_option_header();
      break;
    case stage::option_data:
      dispatch();
      break;
    case stage::discarding:
      break;  // handled in feed
  }
}

void handshake::on_client_flags() {
  const uint32_t flags = get_u32(buffer_, 0);
  buffer_.clear();
  if ((flags & ~(flag_c_fixed_newstyle | flag_c_no_zeroes)) != 0)
    return close("client sent unknown handshake flags " + std::to_string(flags));
  has_no_zeroes_ = (flags & flag_c_no_zeroes) != 0;
  stage_ = stage::option_header;
  wanted_bytes_ = option_header_bytes;
}

void handshake::on_option_header() {
  const uint64_t magic = get_u64(buffer_, 0);
  option_ = get_u32(buffer_, 8);
  const uint32_t length = get_u32(buffer_, 12);
  buffer_.clear();
  if (magic != magic_option)
    return close("client sent an option without the IHAVEOPT magic");
  if (++options_seen_ > limits_.options_max)
    return close("client sent more than " + std::to_string(limits_.options_max) + " options");
  if (length > limits_.option_data_bytes_max) {
    if (option_ == static_cast<uint32_t>(option::export_name))
      return close("client asked for an export name longer than the limit");  // cannot reply
    stage_ = stage::discarding;
    discard_bytes_ = length;
    return;
  }
  stage_ = stage::option_data;
  wanted_bytes_ = length;
  if (length == 0)
    dispatch();
}

void handshake::dispatch() {
  // Leave the framing ready for the next option first: handlers may change state.
  stage_ = stage::option_header;
  wanted_bytes_ = option_header_bytes;
  switch (static_cast<option>(option_)) {
    case option::export_name:
      on_export_name(std::string(reinterpret_cast<const char*>(buffer_.data()), buffer_.size()));
      break;
    case option::abort:
      reply(option_reply::ack);
      close("client aborted the handshake");
      break;
    case option::list:
      on_list();
      break;
    case option::info:
    case option::go:
      on_info_or_go();
      break;
    case option::structured_reply:
      on_structured_reply();
      break;
    default:
      reply_error(option_reply::err_unsup,
                  "option " + std::to_string(option_) + " is not supported by vcube-esand");
      break;
  }
  buffer_.clear();
}

void handshake::close(std::string reason) {
  state_ = handshake_state::closing;
  close_reason_ = std::move(reason);
}

void handshake::reply(option_reply type, std::string_view data) {
  put_u64(output_, magic_option_reply);
  put_u32(output_, option_);
  put_u32(output_, static_cast<uint32_t>(type));
  put_u32(output_, static_cast<uint32_t>(data.size()));
  output_.append(data);
}

void handshake::reply_error(option_reply type, std::string_view message) {
  reply(type, message);
}

}  // namespace vcube::esan::nbd
