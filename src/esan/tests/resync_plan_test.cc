#include "esan/resync_plan.h"

#include <gtest/gtest.h>

namespace vcube::esan {
namespace {

constexpr uint32_t region = 65536;

region_bitmap bitmap_with(std::vector<uint64_t> regions, uint64_t count = 100) {
  auto b = region_bitmap::create(count * region, region);
  for (auto r : regions)
    b->mark(r * region, 1);
  return std::move(*b);
}

TEST(resync_plan, walks_the_set_regions_with_a_bounded_window) {
  resync_plan plan(bitmap_with({3, 5, 7, 9, 11}), 0, {0, 2, 100}, 0);
  EXPECT_EQ(plan.percent(), 0);
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{3, 5}));
  EXPECT_TRUE(plan.next(0).empty());  // the window is full
  plan.done(3);
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{7}));
  EXPECT_EQ(plan.cursor(), 5u);  // 5 is in flight, not done
  for (uint64_t r : {5, 7})
    plan.done(r);
  EXPECT_EQ(plan.percent(), 60);
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{9, 11}));
  plan.done(9);
  plan.done(11);
  EXPECT_TRUE(plan.is_finished());
  EXPECT_EQ(plan.percent(), 100);
  EXPECT_EQ(plan.cursor(), 100u);
  EXPECT_TRUE(plan.next(0).empty());
}

TEST(resync_plan, resumes_at_the_cursor_then_comes_back_for_the_rest) {
  resync_plan plan(bitmap_with({2, 40, 60}), 40, {0, 8, 100}, 0);
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{40, 60, 2}));
}

TEST(resync_plan, a_failed_region_is_sent_again_and_a_new_write_is_copied_too) {
  resync_plan plan(bitmap_with({1, 2}), 0, {0, 8, 100}, 0);
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{1, 2}));
  plan.failed(1);
  plan.done(2);
  plan.mark(50ull * region + 10, 100);  // the application wrote there meanwhile
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{1, 50}));
  plan.mark(50ull * region, 1);  // written again while its copy is in flight
  plan.done(1);
  plan.done(50);
  EXPECT_FALSE(plan.is_finished());
  EXPECT_EQ(plan.next(0), (std::vector<uint64_t>{50}));
  plan.done(50);
  EXPECT_TRUE(plan.is_finished());
  EXPECT_EQ(plan.percent(), 100);
}

TEST(resync_plan, the_rate_limit_paces_the_copy) {
  // 64 KiB/s with 64 KiB regions: about one region a second.
  auto b = region_bitmap::create(100ull * region, region);
  b->mark_all();
  resync_plan paced(std::move(*b), 0, {region, 16, 100}, 0);
  size_t sent = 0;
  for (int64_t now = 0; now <= 10'000; now += 50) {
    for (auto r : paced.next(now)) {
      ++sent;
      paced.done(r);
    }
  }
  EXPECT_GE(sent, 10u);
  EXPECT_LE(sent, 12u);
  // Unlimited: everything at once, up to the window.
  auto all = region_bitmap::create(100ull * region, region);
  all->mark_all();
  resync_plan fast(std::move(*all), 0, {0, 16, 100}, 0);
  EXPECT_EQ(fast.next(0).size(), 16u);
  // Nothing to copy: finished at once.
  resync_plan empty(bitmap_with({}), 0, {region, 16, 100}, 0);
  EXPECT_TRUE(empty.is_finished());
  EXPECT_EQ(empty.percent(), 100);
}

TEST(resync_plan, a_clock_going_back_adds_no_budget) {
  auto b = region_bitmap::create(100ull * region, region);
  b->mark_all();
  resync_plan plan(std::move(*b), 0, {region, 16, 100}, 10'000);
  auto first = plan.next(10'000);
  ASSERT_EQ(first.size(), 1u);
  plan.done(first[0]);
  EXPECT_TRUE(plan.next(0).empty());       // the clock went back 10 s
  EXPECT_TRUE(plan.next(10'500).empty());  // half a region's worth since
  EXPECT_EQ(plan.next(11'000).size(), 1u);
}

}  // namespace
}  // namespace vcube::esan
