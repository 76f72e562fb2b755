#include "esan/generations.h"

#include <gtest/gtest.h>

namespace vcube::esan {
namespace {

struct row {
  const char* what;
  generations self;
  generations peer;
  sync_decision expected;
  int rule;
};

sync_decision mirrored(sync_decision d) {
  switch (d) {
    case sync_decision::source_bitmap:
      return sync_decision::target_bitmap;
    case sync_decision::target_bitmap:
      return sync_decision::source_bitmap;
    case sync_decision::source_full:
      return sync_decision::target_full;
    case sync_decision::target_full:
      return sync_decision::source_full;
    default:
      return d;
  }
}

// Every row of the table (DRBD's generation identifier cases), each checked
// from both sides.
TEST(generations, decision_table) {
  const std::vector<row> rows = {
      {"both new", {0, 0, {}}, {0, 0, {}}, sync_decision::none, 1},
      {"this side new", {0, 0, {}}, {7, 0, {}}, sync_decision::target_full, 2},
      {"peer new", {7, 0, {}}, {0, 0, {}}, sync_decision::source_full, 2},
      {"same generation", {7, 0, {5, 0}}, {7, 0, {5, 0}}, sync_decision::none, 3},
      {"same generation, stale bitmap ids", {7, 3, {}}, {7, 0, {}}, sync_decision::none, 3},
      {"peer was away", {8, 7, {}}, {7, 0, {}}, sync_decision::source_bitmap, 4},
      {"this side was away", {7, 0, {}}, {8, 7, {}}, sync_decision::target_bitmap, 4},
      {"peer is older than its bitmap covers",
       {5, 0, {}},
       {9, 8, {5, 0}},
       sync_decision::target_full,
       5},
      {"this side moved on twice", {9, 0, {8, 5}}, {5, 0, {}}, sync_decision::source_full, 5},
      {"split brain: both wrote apart", {8, 7, {}}, {9, 7, {}}, sync_decision::split_brain, 6},
      {"split brain: older common ancestor",
       {12, 11, {4, 0}},
       {13, 10, {4, 0}},
       sync_decision::split_brain,
       7},
      {"unrelated data", {12, 11, {10, 9}}, {22, 21, {20, 19}}, sync_decision::unrelated_data, 8},
  };
  for (const auto& r : rows) {
    auto c = compare_generations(r.self, r.peer);
    EXPECT_EQ(c.decision, r.expected) << r.what << ": " << to_string(c.decision);
    EXPECT_EQ(c.rule, r.rule) << r.what;
    EXPECT_FALSE(c.reason.empty()) << r.what;
    auto back = compare_generations(r.peer, r.self);
    EXPECT_EQ(back.decision, mirrored(r.expected)) << r.what << " (from the peer)";
  }
}

// The transitions over a life: initial sync, the secondary away, the primary
// away and a promotion, a split brain.
TEST(generations, transitions_lead_to_the_right_resync) {
  generations a, b;
  a = on_full_sync_source(a, 100);
  EXPECT_EQ(compare_generations(a, b).decision, sync_decision::source_full);
  b = on_resync_done_target(a);
  EXPECT_EQ(compare_generations(a, b).decision, sync_decision::none);

  // b dies; a keeps writing and tracks the regions.
  a = on_peer_lost(a, 101);
  EXPECT_EQ(a.bitmap, 100u);
  a = on_peer_lost(a, 102);  // a second outage before the resync: the tracking start stays
  EXPECT_EQ(a.bitmap, 100u);
  EXPECT_EQ(compare_generations(a, b).decision, sync_decision::source_bitmap);
  a = on_resync_done_source(a);
  b = on_resync_done_target(a);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.history[0], 100u);

  // a dies; b is promoted and writes: a, back, is the target.
  b = on_peer_lost(b, 103);
  EXPECT_EQ(compare_generations(a, b).decision, sync_decision::target_bitmap);

  // Meanwhile a was also promoted alone: split brain, never merged.
  generations a_alone = on_peer_lost(a, 104);
  EXPECT_EQ(compare_generations(a_alone, b).decision, sync_decision::split_brain);
}

}  // namespace
}  // namespace vcube::esan
