// The activity log: which writes persist a record, eviction, pinning, and the
// on-disk record.
#include "esan/activity_log.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vcube::esan {
namespace {

constexpr uint64_t mib = 1 << 20;

TEST(activity_log, only_a_write_to_a_cold_extent_changes_the_set) {
  activity_log al(4);
  EXPECT_EQ(al.begin(0, 4096), std::optional<bool>(true));
  al.end(0, 4096);
  EXPECT_EQ(al.begin(mib, 4096), std::optional<bool>(false));  // the same 4 MiB extent: hot
  al.end(mib, 4096);
  EXPECT_EQ(al.begin(4 * mib - 512, 1024), std::optional<bool>(true));  // spans extents 0 and 1
  al.end(4 * mib - 512, 1024);
  EXPECT_EQ(al.extents(), (std::vector<uint64_t>{1, 0}));
  EXPECT_EQ(al.in_flight(), 0u);
}

TEST(activity_log, the_least_recently_used_idle_extent_makes_room) {
  activity_log al(3);
  for (uint64_t e : {0, 1, 2}) {
    ASSERT_TRUE(al.begin(e * al_extent_bytes, 512));
    al.end(e * al_extent_bytes, 512);
  }
  ASSERT_TRUE(al.begin(0, 512));  // 0 is now the most recent
  al.end(0, 512);
  EXPECT_EQ(al.begin(3 * al_extent_bytes, 512), std::optional<bool>(true));
  al.end(3 * al_extent_bytes, 512);
  EXPECT_EQ(al.extents(), (std::vector<uint64_t>{3, 0, 2}));  // 1 was evicted
}

TEST(activity_log, extents_with_writes_in_flight_are_pinned) {
  activity_log al(2);
  ASSERT_TRUE(al.begin(0, 512));
  ASSERT_TRUE(al.begin(al_extent_bytes, 512));
  EXPECT_EQ(al.begin(2 * al_extent_bytes, 512), std::nullopt);  // both busy: wait
  EXPECT_EQ(al.extents(), (std::vector<uint64_t>{1, 0}));       // nothing changed
  al.end(0, 512);
  EXPECT_EQ(al.begin(2 * al_extent_bytes, 512), std::optional<bool>(true));
  EXPECT_EQ(al.extents(), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(al.in_flight(), 2u);
}

// Two overlapping writes in flight could land in one order on this side and
// in the other on the peer: the second waits for the first's end.
TEST(activity_log, an_overlapping_write_waits_for_the_one_in_flight) {
  activity_log al(4);
  ASSERT_TRUE(al.begin(8192, 8192));
  EXPECT_EQ(al.begin(12288, 512), std::nullopt);         // inside
  EXPECT_EQ(al.begin(4096, 4608), std::nullopt);         // over its start
  EXPECT_EQ(al.begin(16384 - 512, 1024), std::nullopt);  // over its end
  EXPECT_FALSE(al.begin_if_hot(8192, 512));
  EXPECT_EQ(al.begin(4096, 4096), std::optional<bool>(false));  // adjacent: no overlap
  EXPECT_TRUE(al.begin_if_hot(16384, 4096));
  EXPECT_EQ(al.in_flight(), 3u);
  al.end(8192, 8192);
  EXPECT_EQ(al.begin(12288, 512), std::optional<bool>(false));
  EXPECT_FALSE(al.begin_if_hot(8 * al_extent_bytes, 512));  // cold: nothing changes
  EXPECT_EQ(al.in_flight(), 3u);
}

// An ascending stream makes the next extents hot with the one it enters, so
// it persists a record every 1 + lookahead extents; a random write does not.
TEST(activity_log, an_ascending_stream_looks_ahead) {
  activity_log al(8, 2);
  int records = 0;
  for (uint64_t at = 0; at < 12 * al_extent_bytes; at += 256 * 1024) {
    auto changed = al.begin(at, 4096);
    ASSERT_TRUE(changed);
    records += *changed ? 1 : 0;
    al.end(at, 4096);
  }
  EXPECT_EQ(records, 5);  // extents 0, 1 (+2, 3), 4 (+5, 6), 7 (+8, 9), 10 (+11, 12)
  EXPECT_EQ(al.extents().size(), 8u);
  EXPECT_EQ(al.extents().front(), 11u);  // 12 was looked ahead, then 11 was written
  EXPECT_EQ(al.begin(40 * al_extent_bytes, 512), std::optional<bool>(true));
  al.end(40 * al_extent_bytes, 512);
  EXPECT_EQ(al.extents().front(), 40u);  // 39 is cold: no look ahead
  const std::vector<uint64_t> hot = al.extents();
  EXPECT_EQ(std::count(hot.begin(), hot.end(), 41u), 0);
}

TEST(activity_log, a_record_round_trips_and_a_torn_one_is_refused) {
  al_record r{42, true, {7, 1, 99}};
  std::string block = encode_al(r);
  ASSERT_EQ(block.size(), al_block_bytes);
  auto back = decode_al(block);
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(*back, r);
  block[100] ^= 1;
  EXPECT_FALSE(decode_al(block));
  EXPECT_FALSE(decode_al(std::string(al_block_bytes, '\0')));
  EXPECT_FALSE(decode_al("short"));
}

}  // namespace
}  // namespace vcube::esan
