#include "esan/generations.h"

#include <algorithm>

namespace vcube::esan {
namespace {

bool in_history(uint64_t id, const generations& g) {
  return id != 0 && std::find(g.history.begin(), g.history.end(), id) != g.history.end();
}

bool histories_meet(const generations& a, const generations& b) {
  return std::any_of(a.history.begin(), a.history.end(),
                     [&](uint64_t id) { return in_history(id, b); });
}

// The tracked generation goes to the front of the history.
void push_history(generations& g, uint64_t id) {
  if (id == 0 || g.history[0] == id)
    return;
  g.history[1] = g.history[0];
  g.history[0] = id;
}

}  // namespace

comparison compare_generations(const generations& self, const generations& peer) {
  if (self.current == 0 && peer.current == 0)
    return {sync_decision::none, 1, "both sides are new: start the initial sync"};
  if (self.current == 0)
    return {sync_decision::target_full, 2, "this side was never synced"};
  if (peer.current == 0)
    return {sync_decision::source_full, 2, "the peer was never synced"};
  if (self.current == peer.current)
    return {sync_decision::none, 3, "both sides hold the same generation"};
  if (self.bitmap == peer.current && peer.bitmap == 0)
    return {sync_decision::source_bitmap, 4, "the peer was away; this side tracked its writes"};
  if (peer.bitmap == self.current && self.bitmap == 0)
    return {sync_decision::target_bitmap, 4, "this side was away; the peer tracked its writes"};
  if (in_history(self.current, peer))
    return {sync_decision::target_full, 5, "the peer moved on beyond what its bitmap covers"};
  if (in_history(peer.current, self))
    return {sync_decision::source_full, 5, "this side moved on beyond what its bitmap covers"};
  if (self.bitmap != 0 && self.bitmap == peer.bitmap)
    return {sync_decision::split_brain, 6, "both sides wrote since their common generation"};
  if (histories_meet(self, peer) || in_history(self.bitmap, peer) || in_history(peer.bitmap, self))
    return {sync_decision::split_brain, 7, "both sides wrote since an older common generation"};
  return {sync_decision::unrelated_data, 8, "the two sides share no generation"};
}

const char* to_string(sync_decision d) {
  switch (d) {
    case sync_decision::none:
      return "none";
    case sync_decision::source_bitmap:
      return "source_bitmap";
    case sync_decision::target_bitmap:
      return "target_bitmap";
    case sync_decision::source_full:
      return "source_full";
    case sync_decision::target_full:
      return "target_full";
    case sync_decision::split_brain:
      return "split_brain";
    case sync_decision::unrelated_data:
      return "unrelated_data";
  }
  return "none";
}

generations on_peer_lost(const generations& g, uint64_t fresh) {
  generations out = g;
  if (out.bitmap == 0)
    out.bitmap = out.current;  // tracking starts; an earlier outage keeps its start
  out.current = fresh;
  return out;
}

generations on_full_sync_source(const generations& g, uint64_t fresh) {
  generations out = g;
  push_history(out, out.current);
  out.current = fresh;
  out.bitmap = 0;
  return out;
}

generations on_resync_done_source(const generations& g) {
  generations out = g;
  push_history(out, out.bitmap);
  out.bitmap = 0;
  return out;
}

generations on_resync_done_target(const generations& source) {
  generations out = source;
  out.bitmap = 0;
  return out;
}

}  // namespace vcube::esan
