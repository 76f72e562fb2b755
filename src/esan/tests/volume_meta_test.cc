#include "esan/volume_meta.h"

#include <gtest/gtest.h>

#include "esan/region_bitmap.h"

namespace vcube::esan {
namespace {

volume_meta sample() {
  volume_meta m;
  m.size_bytes = (4ull << 30) + 4096;
  m.region_bytes = 65536;
  m.gens = {0x1122334455667788ull, 42, {41, 40}};
  m.role = volume_role::primary;
  m.is_consistent = true;
  m.resync_cursor = 17;
  m.pending_size_bytes = 8ull << 30;
  return m;
}

TEST(volume_meta, round_trips_in_one_block) {
  auto block = encode_meta(sample());
  ASSERT_EQ(block.size(), meta_block_bytes);
  auto back = decode_meta(block);
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(*back, sample());
}

TEST(volume_meta, refuses_what_it_cannot_trust) {
  auto block = encode_meta(sample());
  struct bad_case {
    const char* what;
    std::string block;
    const char* message;
  };
  std::string torn = block;
  torn[100] = 'x';
  std::string foreign = block;
  foreign[0] = 'X';
  std::vector<bad_case> cases = {{"short", block.substr(0, 512), "bytes"},
                                 {"torn", torn, "checksum"},
                                 {"foreign", foreign, "magic"}};
  auto with = [&](auto change) {
    volume_meta m = sample();
    change(m);
    return encode_meta(m);
  };
  cases.push_back(
      {"region size", with([](volume_meta& m) { m.region_bytes = 3000; }), "region size"});
  cases.push_back({"cursor", with([](volume_meta& m) { m.resync_cursor = 1ull << 40; }), "cursor"});
  cases.push_back({"shrink", with([](volume_meta& m) { m.pending_size_bytes = 4096; }), "grow"});
  for (const auto& c : cases) {
    auto r = decode_meta(c.block);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.err().code, errc::invalid_input) << c.what;
    EXPECT_NE(r.err().message.find(c.message), std::string::npos)
        << c.what << ": " << r.err().message;
  }
}

TEST(volume_meta, crc32c_matches_the_standard_check_value) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(region_bitmap, marks_regions_a_write_touches) {
  auto made = region_bitmap::create(10 * 4096 + 100, 4096);
  ASSERT_TRUE(made);
  region_bitmap b = std::move(*made);
  EXPECT_EQ(b.regions(), 11u);
  EXPECT_EQ(b.mark(4095, 2), 2u);             // straddles regions 0 and 1
  EXPECT_EQ(b.mark(0, 4096), 0u);             // already set
  EXPECT_EQ(b.mark(10 * 4096, 1 << 20), 1u);  // clipped to the short last region
  EXPECT_EQ(b.mark(1 << 30, 10), 0u);         // past the end
  EXPECT_EQ(b.count(), 3u);
  EXPECT_EQ(b.dirty_bytes(), 2 * 4096u + 100);
  EXPECT_EQ(b.next_set(0), 0u);
  EXPECT_EQ(b.next_set(2), 10u);
  b.clear(10);
  EXPECT_FALSE(b.next_set(2));
  EXPECT_EQ(b.count(), 2u);
}

TEST(region_bitmap, encodes_and_refuses_bad_encodings) {
  auto made = region_bitmap::create(100ull * 65536, 65536);
  ASSERT_TRUE(made);
  made->mark(0, 1);
  made->mark(99ull * 65536, 1);
  made->mark(64ull * 65536, 1);
  auto bytes = made->encode();
  EXPECT_EQ(bytes.size(), 16u);
  auto back = region_bitmap::decode(100ull * 65536, 65536, bytes);
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(back->count(), 3u);
  EXPECT_TRUE(back->is_set(64));
  EXPECT_FALSE(region_bitmap::decode(100ull * 65536, 65536, bytes.substr(0, 8)));
  std::string past_end = bytes;
  past_end[15] = '\x80';  // region 127 of a 100-region volume
  EXPECT_FALSE(region_bitmap::decode(100ull * 65536, 65536, past_end));
  EXPECT_FALSE(region_bitmap::create(1 << 20, 6000));
  auto all = region_bitmap::create(3 * 4096, 4096);
  all->mark_all();
  EXPECT_EQ(all->count(), 3u);
}

}  // namespace
}  // namespace vcube::esan
