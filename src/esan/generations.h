// Generation identifiers of a mirrored volume (docs/esan.md, "Generations"),
// after DRBD's: which data generation each side holds decides the direction
// of a resync after any outage, whether the bitmap suffices or a full copy
// is needed, and detects split brain. Pure: the caller persists the values
// (volume metadata) and supplies fresh random identifiers.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace vcube::esan {

struct generations {
  uint64_t current = 0;               // the data generation this side holds; 0: never synced
  uint64_t bitmap = 0;                // the generation the bitmap tracks changes since; 0: none
  std::array<uint64_t, 2> history{};  // older generations, newest first
  friend bool operator==(const generations&, const generations&) = default;
};

enum class sync_decision {
  none,            // same data (or both new: the initial sync is started by hand)
  source_bitmap,   // this side is newer: send the regions its bitmap marks
  target_bitmap,   // the peer is newer: receive the regions its bitmap marks
  source_full,     // this side is newer, the bitmap does not cover it: copy all
  target_full,     // the peer is newer, the bitmap does not cover it: receive all
  split_brain,     // both sides wrote since a common generation: never merged
  unrelated_data,  // no common generation at all: refuse to connect
};

struct comparison {
  sync_decision decision = sync_decision::none;
  int rule = 0;  // which row of the table decided (docs/esan.md), for logs
  std::string reason;
};

// The decision table, evaluated in order; symmetric: compare(a, b) and
// compare(b, a) give mirrored decisions.
comparison compare_generations(const generations& self, const generations& peer);

const char* to_string(sync_decision d);

// How the identifiers move (`fresh` is a new random non-zero identifier):
// The primary loses its peer (or starts writing without it): the bitmap
// starts tracking from the current generation, and a new one begins.
generations on_peer_lost(const generations& g, uint64_t fresh);
// A new volume's first sync, or a full sync forced by the operator (this
// side becomes the source): a new generation; the old one goes to history.
generations on_full_sync_source(const generations& g, uint64_t fresh);
// A resync finished on the source: its bitmap is clean, the tracked
// generation goes to history.
generations on_resync_done_source(const generations& g);
// A resync finished on the target: it holds the source's data now.
generations on_resync_done_target(const generations& source);

}  // namespace vcube::esan
