// The replication protocol between the two vcube-esand of a mirrored volume
// (docs/esan.md, "Replication protocol"): frames over one TCP connection per
// volume, big endian like NBD. Pure codec: encode_* build frames, and
// frame_decoder takes bytes as they arrive and hands out validated frames, or
// an error after which the connection must be closed. Nothing it is fed can
// make it buffer more than one maximal frame.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "common/error.h"
#include "esan/generations.h"

namespace vcube::esan::repl {

inline constexpr uint32_t magic = 0x56435231;  // "VCR1"
inline constexpr uint32_t protocol_version = 1;
inline constexpr size_t header_bytes = 20;            // magic, type, flags, seq, payload length
inline constexpr uint32_t data_bytes_max = 1u << 20;  // one write or resync block
inline constexpr uint32_t bitmap_bytes_max = 1u << 20;
inline constexpr size_t volume_name_max = 64;
inline constexpr uint64_t verify_bytes_max = 64u << 20;  // one region (region_bytes_max)
inline constexpr uint32_t sector_bytes = 512;            // offsets and lengths are multiples

enum class frame_type : uint16_t {
  hello = 1,      // who I am and what I hold
  write = 2,      // offset + data; flag fua
  write_ack = 3,  // status for seq
  flush = 4,
  flush_ack = 5,     // status for seq
  trim = 6,          // offset + length
  write_zeroes = 7,  // offset + length
  bitmap = 8,        // first word index + bitmap words (the resync source sends its bitmap)
  resync_data = 9,   // offset + data, copied by a resync
  resync_ack = 10,   // status for seq
  ping = 11,
  pong = 12,
  goodbye = 13,         // a reason, then the sender closes
  verify_request = 14,  // offset + length: hash this range of your data
  verify_reply = 15,    // offset + length + the hash of the replier's data
};

inline constexpr uint16_t flag_fua = 1;

// On a hello after the first: the sender's role or consistency changed
// (promote, demote); it is not the end of a resync.
inline constexpr uint16_t flag_update = 2;
// On a hello: the sender crashed while primary and is recovering its activity
// log's extents (peer_rules: they are resynced whichever way).
inline constexpr uint16_t flag_recovering = 4;

struct hello {
  std::string volume;  // 1..64 of A-Z a-z 0-9 . _ -
  uint64_t size_bytes = 0;
  uint32_t region_bytes = 0;
  bool is_primary = false;
  bool is_consistent = false;
  generations gens;
  uint32_t version = protocol_version;
};
struct data_block {  // write, resync_data
  uint64_t offset = 0;
  std::string data;  // a multiple of sector_bytes, 1 sector .. data_bytes_max
};
struct extent {  // trim, write_zeroes
  uint64_t offset = 0;
  uint64_t length = 0;
};
struct ack {            // write_ack, flush_ack, resync_ack
  uint32_t status = 0;  // 0, or an errno value
};
struct bitmap_part {
  uint64_t first_word = 0;
  std::string words;  // 64-bit little-endian words, as region_bitmap encodes them
};
struct goodbye {
  std::string reason;  // at most 1024 bytes
};
struct digest {  // verify_reply
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t hash = 0;  // verify_hash of the range
};
struct empty {};  // flush, ping, pong

using payload = std::variant<hello, data_block, extent, ack, bitmap_part, goodbye, digest, empty>;

struct frame {
  frame_type type = frame_type::ping;
  uint16_t flags = 0;
  uint64_t seq = 0;
  payload body = empty{};
};

// What the decoder checks offsets against (0 size: before the hello).
struct volume_limits {
  uint64_t size_bytes = 0;
  uint32_t region_bytes = 0;  // 0: unknown (bitmaps are checked against 4 KiB regions)
};

std::string encode(const frame& f);
// For write and resync_data without copying the data: the header and the
// offset; the frame is these bytes followed by the `data_bytes` of data.
std::string encode_data_prefix(frame_type type, uint16_t flags, uint64_t seq, uint64_t offset,
                               size_t data_bytes);

class frame_decoder {
 public:
  explicit frame_decoder(volume_limits limits = {}) : limits_(limits) {}
  void set_limits(volume_limits limits) { limits_ = limits; }
  // Appends what arrived. Returns an error (close the connection) as soon as
  // a header is bad, without waiting for its payload.
  status feed(std::string_view bytes);
  // Receiving without a copy: prepare() is room for what arrives next (at
  // least one maximal frame's worth, empty only after an error), commit(n)
  // appends the first n bytes written there and checks them like feed.
  std::span<char> prepare();
  status commit(size_t bytes);
  // The next complete frame, validated; nullopt until one is complete. After
  // an error, always that error.
  result<std::optional<frame>> next();
  size_t buffered() const { return end_ - begin_; }

 private:
  status check_buffered();
  void make_room(size_t bytes);

  volume_limits limits_;
  // The bytes not yet taken are [begin_, end_): a frame taken moves begin_,
  // and they move to the front only when the room behind them runs short,
  // so a frame's bytes are not moved once per frame.
  std::string buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  std::optional<error> failed_;
};

const char* to_string(frame_type t);

// The 64-bit hash online verify compares (not cryptographic: it finds
// corruption, not an adversary).
uint64_t verify_hash(std::string_view bytes);

}  // namespace vcube::esan::repl
