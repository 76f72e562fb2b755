// The activity log of a mirrored volume (docs/esan.md, "Activity log"),
// after DRBD's: the extents a primary may be writing are recorded on disk
// before the write is issued, so that after a crash exactly those extents
// are resynced (the crashed primary may hold writes the peer lacks, or the
// peer writes this side lacks). A write to an extent already in the log
// (hot) costs nothing; only a write to a cold extent persists a new record
// first. Extents with writes in flight are pinned: the least recently used
// idle extent makes room. Pure: the metadata file persists the records.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vcube::esan {

inline constexpr uint64_t al_extent_bytes = 4u << 20;  // one extent: 4 MiB of the volume
inline constexpr size_t al_extents_max = 64;           // hot extents: 256 MiB
inline constexpr size_t al_block_bytes = 4096;

// One persisted state of the log.
struct al_record {
  uint64_t seq = 0;  // the newer of two valid records wins
  // After a crash the extents were added to the bitmap; the next resync
  // (either direction) copies them. Cleared when a resync finishes.
  bool is_recovering = false;
  std::vector<uint64_t> extents;  // may hold writes the peer lacks; empty after a clean close
  friend bool operator==(const al_record&, const al_record&) = default;
};

// Exactly al_block_bytes: magic VCUBEEAL, seq, flags, count, extents, CRC-32C.
std::string encode_al(const al_record& r);
// invalid_input for a short, foreign or torn block.
result<al_record> decode_al(std::string_view block);

class activity_log {
 public:
  // `lookahead_extents`: when a write makes extent E hot while E - 1 is hot
  // (an ascending stream, sequential or strided), the extents after it are
  // made hot in the same record, so such a stream persists a record every
  // 1 + lookahead_extents extents instead of every extent. The price: a crash
  // resyncs those few extents too.
  explicit activity_log(size_t extents_max = al_extents_max, size_t lookahead_extents = 0);

  // The extents [offset, offset + length) touches get one more write in
  // flight. true: the set changed, persist extents() before issuing the
  // write; false: all were hot. nullopt: not enough idle extents to make
  // room, or a write in flight overlaps the range (nothing changed): wait
  // for an end() and try again. Overlapping writes go one at a time, as in
  // DRBD: two in flight at once could land in one order here and in the
  // other on the peer.
  std::optional<bool> begin(uint64_t offset, uint64_t length);
  // begin() when every extent the range touches is hot (nothing to
  // persist) and no write in flight overlaps it: true. Otherwise false, and
  // nothing changed.
  bool begin_if_hot(uint64_t offset, uint64_t length);
  // The write is done (acknowledged or failed).
  void end(uint64_t offset, uint64_t length);
  std::vector<uint64_t> extents() const;
  size_t in_flight() const;

 private:
  struct slot {
    uint64_t extent = 0;
    uint32_t in_flight = 0;
  };
  std::list<slot> lru_;  // front: most recently begun
  void look_ahead(uint64_t last);

  bool overlaps_in_flight(uint64_t offset, uint64_t length) const;

  std::map<uint64_t, std::list<slot>::iterator> index_;
  std::map<uint64_t, uint64_t> writing_;  // each write in flight: offset → end (disjoint)
  size_t extents_max_;
  size_t lookahead_extents_;
};

}  // namespace vcube::esan
