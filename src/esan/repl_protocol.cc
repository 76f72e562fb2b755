#include "esan/repl_protocol.h"

#include <algorithm>
#include <bit>

#include "esan/region_bitmap.h"

namespace vcube::esan::repl {
namespace {

constexpr size_t hello_fixed_bytes = 2 + 8 + 4 + 1 + 1 + 32 + 4;
constexpr size_t goodbye_bytes_max = 1024;
constexpr size_t frame_bytes_max = header_bytes + 8 + data_bytes_max;

struct header {
  frame_type type;
  uint16_t flags;
  uint64_t seq;
  uint32_t length;
};

error bad(const std::string& what) {
  return make_error(errc::invalid_input, "replication: " + what);
}

void put(std::string& out, uint64_t value, int bytes) {
  for (int b = bytes - 1; b >= 0; --b)
    out.push_back(static_cast<char>((value >> (8 * b)) & 0xff));
}

uint64_t get(std::string_view in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int b = 0; b < bytes; ++b)
    value = (value << 8) | static_cast<unsigned char>(in[at + b]);
  return value;
}

bool is_known(uint16_t type) {
  return type >= uint16_t(frame_type::hello) && type <= uint16_t(frame_type::verify_reply);
}

// The payload lengths a type allows: [min, max].
std::pair<uint64_t, uint64_t> length_range(frame_type t) {
  switch (t) {
    case frame_type::hello:
      return {hello_fixed_bytes + 1, hello_fixed_bytes + volume_name_max};
    case frame_type::write:
    case frame_type::resync_data:
      return {8 + sector_bytes, 8 + data_bytes_max};
    case frame_type::trim:
    case frame_type::write_zeroes:
    case frame_type::verify_request:
      return {16, 16};
    case frame_type::verify_reply:
      return {24, 24};
    case frame_type::write_ack:
    case frame_type::flush_ack:
    case frame_type::resync_ack:
      return {4, 4};
    case frame_type::bitmap:
      return {16, 8 + bitmap_bytes_max};
    case frame_type::goodbye:
      return {0, goodbye_bytes_max};
    default:
      return {0, 0};
  }
}

result<header> parse_header(std::string_view b) {
  if (get(b, 0, 4) != magic)
    return bad("bad magic (not a vcube replication peer, or a lost frame boundary)");
  uint16_t type = static_cast<uint16_t>(get(b, 4, 2));
  if (!is_known(type))
    return bad("unknown frame type " + std::to_string(type));
  header h{frame_type(type), static_cast<uint16_t>(get(b, 6, 2)), get(b, 8, 8),
           static_cast<uint32_t>(get(b, 16, 4))};
  uint16_t allowed = h.type == frame_type::write   ? flag_fua
                     : h.type == frame_type::hello ? uint16_t(flag_update | flag_recovering)
                                                   : 0;
  if (h.flags & ~allowed)
    return bad(std::string("flags ") + std::to_string(h.flags) + " are not valid on " +
               to_string(h.type));
  auto [low, high] = length_range(h.type);
  if (h.length < low || h.length > high)
    return bad(std::string(to_string(h.type)) + " with a payload of " + std::to_string(h.length) +
               " bytes (allowed " + std::to_string(low) + ".." + std::to_string(high) + ")");
  return h;
}

bool is_volume_name(std::string_view s) {
  if (s.empty() || s.size() > volume_name_max)
    return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

status check_range(const volume_limits& limits, uint64_t offset, uint64_t length, frame_type type) {
  if (limits.size_bytes == 0)
    return bad(std::string(to_string(type)) + " before the hello");
  if (offset % sector_bytes != 0 || length % sector_bytes != 0 || length == 0)
    return bad(std::string(to_string(type)) + " not aligned to 512-byte sectors");
  if (offset > limits.size_bytes || length > limits.size_bytes - offset)
    return bad(std::string(to_string(type)) + " beyond the end of the volume");
  return ok_status();
}

result<payload> parse_hello(std::string_view p) {
  size_t name_len = get(p, 0, 2);
  if (p.size() != hello_fixed_bytes + name_len)
    return bad("hello: the name length does not match the payload");
  hello h;
  h.volume = std::string(p.substr(2, name_len));
  size_t at = 2 + name_len;
  h.size_bytes = get(p, at, 8);
  h.region_bytes = static_cast<uint32_t>(get(p, at + 8, 4));
  uint64_t role = get(p, at + 12, 1), consistent = get(p, at + 13, 1);
  h.gens.current = get(p, at + 14, 8);
  h.gens.bitmap = get(p, at + 22, 8);
  h.gens.history = {get(p, at + 30, 8), get(p, at + 38, 8)};
  h.version = static_cast<uint32_t>(get(p, at + 46, 4));
  if (!is_volume_name(h.volume))
    return bad("hello: not a volume name");
  if (h.size_bytes == 0 || h.size_bytes % sector_bytes != 0)
    return bad("hello: the size must be a non-zero multiple of 512 bytes");
  if (h.region_bytes < region_bytes_min || h.region_bytes > region_bytes_max ||
      !std::has_single_bit(h.region_bytes))
    return bad("hello: invalid region size");
  if (role > 1 || consistent > 1)
    return bad("hello: role and consistency are 0 or 1");
  if (h.version != protocol_version)
    return bad("hello: protocol version " + std::to_string(h.version) + " (this side speaks " +
               std::to_string(protocol_version) + ")");
  h.is_primary = role == 1;
  h.is_consistent = consistent == 1;
  return payload{std::move(h)};
}

result<payload> parse_payload(const header& h, std::string_view p, const volume_limits& limits) {
  switch (h.type) {
    case frame_type::hello:
      return parse_hello(p);
    case frame_type::write:
    case frame_type::resync_data: {
      data_block d{get(p, 0, 8), std::string(p.substr(8))};
      if (auto s = check_range(limits, d.offset, d.data.size(), h.type); !s)
        return s.err();
      return payload{std::move(d)};
    }
    case frame_type::trim:
    case frame_type::write_zeroes: {
      extent e{get(p, 0, 8), get(p, 8, 8)};
      if (auto s = check_range(limits, e.offset, e.length, h.type); !s)
        return s.err();
      return payload{e};
    }
    case frame_type::verify_request:
    case frame_type::verify_reply: {
      uint64_t offset = get(p, 0, 8), length = get(p, 8, 8);
      if (auto s = check_range(limits, offset, length, h.type); !s)
        return s.err();
      if (length > verify_bytes_max)
        return bad(std::string(to_string(h.type)) + " longer than 64 MiB");
      if (h.type == frame_type::verify_request)
        return payload{extent{offset, length}};
      return payload{digest{offset, length, get(p, 16, 8)}};
    }
    case frame_type::write_ack:
    case frame_type::flush_ack:
    case frame_type::resync_ack:
      return payload{ack{static_cast<uint32_t>(get(p, 0, 4))}};
    case frame_type::bitmap: {
      bitmap_part b{get(p, 0, 8), std::string(p.substr(8))};
      if (b.words.size() % 8 != 0)
        return bad("bitmap: not whole 64-bit words");
      if (limits.size_bytes == 0)
        return bad("bitmap before the hello");
      uint64_t region = limits.region_bytes == 0 ? region_bytes_min : limits.region_bytes;
      uint64_t regions = (limits.size_bytes + region - 1) / region;
      uint64_t words_max = (regions + 63) / 64;
      if (b.first_word > words_max || b.words.size() / 8 > words_max - b.first_word)
        return bad("bitmap: words beyond the end of the volume");
      return payload{std::move(b)};
    }
    case frame_type::goodbye:
      return payload{goodbye{std::string(p)}};
    default:
      return payload{empty{}};
  }
}

void put_payload(std::string& out, const frame& f) {
  if (const auto* h = std::get_if<hello>(&f.body)) {
    put(out, h->volume.size(), 2);
    out += h->volume;
    put(out, h->size_bytes, 8);
    put(out, h->region_bytes, 4);
    put(out, h->is_primary ? 1 : 0, 1);
    put(out, h->is_consistent ? 1 : 0, 1);
    put(out, h->gens.current, 8);
    put(out, h->gens.bitmap, 8);
    put(out, h->gens.history[0], 8);
    put(out, h->gens.history[1], 8);
    put(out, h->version, 4);
  } else if (const auto* d = std::get_if<data_block>(&f.body)) {
    put(out, d->offset, 8);
    out += d->data;
  } else if (const auto* e = std::get_if<extent>(&f.body)) {
    put(out, e->offset, 8);
    put(out, e->length, 8);
  } else if (const auto* a = std::get_if<ack>(&f.body)) {
    put(out, a->status, 4);
  } else if (const auto* b = std::get_if<bitmap_part>(&f.body)) {
    put(out, b->first_word, 8);
    out += b->words;
  } else if (const auto* v = std::get_if<digest>(&f.body)) {
    put(out, v->offset, 8);
    put(out, v->length, 8);
    put(out, v->hash, 8);
  } else if (const auto* g = std::get_if<goodbye>(&f.body)) {
    out += g->reason.substr(0, goodbye_bytes_max);
  }
}

}  // namespace

std::string encode(const frame& f) {
  std::string out;
  put(out, magic, 4);
  put(out, static_cast<uint16_t>(f.type), 2);
  put(out, f.flags, 2);
  put(out, f.seq, 8);
  put(out, 0, 4);  // the payload length, set below
  put_payload(out, f);
  uint64_t length = out.size() - header_bytes;
  for (int b = 0; b < 4; ++b)
    out[16 + b] = static_cast<char>((length >> (8 * (3 - b))) & 0xff);
  return out;
}

std::string encode_data_prefix(frame_type type, uint16_t flags, uint64_t seq, uint64_t offset,
                               size_t data_bytes) {
  std::string out;
  out.reserve(header_bytes + 8);
  put(out, magic, 4);
  put(out, static_cast<uint16_t>(type), 2);
  put(out, flags, 2);
  put(out, seq, 8);
  put(out, 8 + data_bytes, 4);
  put(out, offset, 8);
  return out;
}

// The buffer never grows beyond this: two maximal frames may be buffered
// (feed's limit), and the rest is room so that moving them is rare.
constexpr size_t decoder_bytes_max = 4 * frame_bytes_max;

void frame_decoder::make_room(size_t bytes) {
  if (buffer_.size() - end_ >= bytes)
    return;
  if (begin_ > 0) {
    std::copy(buffer_.begin() + static_cast<ptrdiff_t>(begin_),
              buffer_.begin() + static_cast<ptrdiff_t>(end_), buffer_.begin());
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < bytes)
    buffer_.resize(std::min(decoder_bytes_max, std::max(end_ + bytes, 2 * buffer_.size())));
}

status frame_decoder::check_buffered() {
  if (!failed_ && buffered() > 2 * frame_bytes_max)
    failed_ = bad("the peer sends faster than frames are taken");
  if (!failed_ && buffered() >= header_bytes)
    if (auto h = parse_header(std::string_view(buffer_).substr(begin_, buffered())); !h)
      failed_ = h.err();
  if (failed_)
    return *failed_;
  return ok_status();
}

status frame_decoder::feed(std::string_view bytes) {
  if (failed_)
    return *failed_;
  if (buffered() + bytes.size() > 2 * frame_bytes_max) {
    failed_ = bad("the peer sends faster than frames are taken");
    return *failed_;
  }
  make_room(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buffer_.begin() + static_cast<ptrdiff_t>(end_));
  end_ += bytes.size();
  return check_buffered();
}

std::span<char> frame_decoder::prepare() {
  if (failed_)
    return {};
  make_room(frame_bytes_max);
  return std::span(buffer_.data() + end_, buffer_.size() - end_);
}

status frame_decoder::commit(size_t bytes) {
  if (failed_)
    return *failed_;
  end_ += std::min(bytes, buffer_.size() - end_);
  return check_buffered();
}

result<std::optional<frame>> frame_decoder::next() {
  if (failed_)
    return *failed_;
  std::string_view pending = std::string_view(buffer_).substr(begin_, buffered());
  if (pending.size() < header_bytes)
    return std::optional<frame>();
  auto h = parse_header(pending);
  if (!h) {
    failed_ = h.err();
    return *failed_;
  }
  if (pending.size() < header_bytes + h->length)
    return std::optional<frame>();
  auto body = parse_payload(*h, pending.substr(header_bytes, h->length), limits_);
  if (!body) {
    failed_ = body.err();
    return *failed_;
  }
  frame f{h->type, h->flags, h->seq, std::move(*body)};
  begin_ += header_bytes + h->length;
  if (begin_ == end_)
    begin_ = end_ = 0;  // all taken: the next bytes go to the front, nothing moves
  pending = std::string_view(buffer_).substr(begin_, buffered());
  if (pending.size() >= header_bytes)
    if (auto next_header = parse_header(pending); !next_header)
      failed_ = next_header.err();  // reported by the next call; this frame is good
  return std::optional<frame>(std::move(f));
}

const char* to_string(frame_type t) {
  switch (t) {
    case frame_type::hello:
      return "hello";
    case frame_type::write:
      return "write";
    case frame_type::write_ack:
      return "write_ack";
    case frame_type::flush:
      return "flush";
    case frame_type::flush_ack:
      return "flush_ack";
    case frame_type::trim:
      return "trim";
    case frame_type::write_zeroes:
      return "write_zeroes";
    case frame_type::bitmap:
      return "bitmap";
    case frame_type::resync_data:
      return "resync_data";
    case frame_type::resync_ack:
      return "resync_ack";
    case frame_type::ping:
      return "ping";
    case frame_type::pong:
      return "pong";
    case frame_type::goodbye:
      return "goodbye";
    case frame_type::verify_request:
      return "verify_request";
    case frame_type::verify_reply:
      return "verify_reply";
  }
  return "unknown";
}

uint64_t verify_hash(std::string_view bytes) {
  // 64-bit words through a multiply-rotate chain, the tail byte by byte, and
  // murmur3's finaliser: every input bit reaches every output bit.
  constexpr uint64_t k1 = 0x9e3779b97f4a7c15ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
  uint64_t h = k1 ^ bytes.size();
  size_t at = 0;
  for (; at + 8 <= bytes.size(); at += 8) {
    uint64_t w = 0;
    for (int b = 0; b < 8; ++b)
      w |= uint64_t(static_cast<unsigned char>(bytes[at + b])) << (8 * b);
    h = std::rotl(h ^ (w * k2), 31) * k1;
  }
  for (; at < bytes.size(); ++at)
    h = std::rotl(h ^ (static_cast<unsigned char>(bytes[at]) * k2), 31) * k1;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb3fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace vcube::esan::repl
