// Resync planning: which regions a resync source sends next, at what rate,
// and how far it is. Pure; the data plane reads the regions, sends them as
// resync_data, and reports each acknowledged one with done().
//
// The plan walks the bitmap upwards from a cursor (the metadata's
// resync_cursor, so an interrupted resync resumes where it stopped), keeps at
// most `max_in_flight` regions outstanding and paces them with a token
// bucket of `rate_bytes_per_s` (0: unlimited) that may hold `burst_ms` worth
// of bytes.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "esan/region_bitmap.h"

namespace vcube::esan {

struct resync_options {
  uint64_t rate_bytes_per_s = 0;  // 0: as fast as the link and disks go
  // 8 MiB of 64 KiB regions: enough to keep a 10 Gbit/s link busy across a
  // round trip, small enough that writes queued behind it wait a few ms.
  uint32_t max_in_flight = 128;
  int64_t burst_ms = 100;
};

class resync_plan {
 public:
  // `bitmap`: the regions to copy (the source's bitmap, or all for a full sync).
  resync_plan(region_bitmap bitmap, uint64_t cursor, resync_options options, int64_t now_ms);

  // Regions to send now (ascending), given the clock; each is in flight until done().
  std::vector<uint64_t> next(int64_t now_ms);
  // The target acknowledged `region`: cleared from the bitmap.
  void done(uint64_t region);
  // The region failed (connection lost mid-flight): it stays set, sent again later.
  void failed(uint64_t region);
  // A write to regions being resynced while the resync runs: they are set
  // again, and one in flight is sent again after its ack (its copy may be older).
  void mark(uint64_t offset, uint64_t length);

  // A new rate from now on (0: unlimited); the bucket keeps what it holds,
  // up to the new burst.
  void set_rate(uint64_t rate_bytes_per_s, int64_t now_ms);

  bool is_finished() const { return bitmap_.count() == 0; }
  // Where a restarted resync would begin: the lowest region not yet done.
  uint64_t cursor() const;
  uint64_t remaining_bytes() const { return bitmap_.dirty_bytes(); }
  // 0..100, from the bytes to copy at the start (100 when there was nothing).
  int percent() const;
  const region_bitmap& bitmap() const { return bitmap_; }

 private:
  void refill(int64_t now_ms);

  region_bitmap bitmap_;
  resync_options options_;
  uint64_t scan_ = 0;  // the next region the walk looks at
  std::set<uint64_t> in_flight_;
  std::set<uint64_t> rewritten_;  // in flight and written since it was read: send again
  uint64_t total_bytes_ = 0;
  double tokens_ = 0;
  int64_t last_ms_ = 0;
};

}  // namespace vcube::esan
