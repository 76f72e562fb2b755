#include "esan/peer_rules.h"

#include <gtest/gtest.h>

namespace vcube::esan {
namespace {

volume_meta meta(generations g, volume_role role = volume_role::secondary,
                 bool is_consistent = true) {
  volume_meta m;
  m.size_bytes = 1 << 30;
  m.region_bytes = 65536;
  m.gens = g;
  m.role = role;
  m.is_consistent = is_consistent;
  return m;
}

repl::hello hello_of(const volume_meta& m, const std::string& volume = "disk") {
  return esan::hello_of(volume, m);
}

TEST(peer_rules, connect_verdicts) {
  auto same = meta({7, 0, {}});
  EXPECT_EQ(on_peer_hello("disk", same, hello_of(same)).action, connect_action::established);

  auto ahead = meta({8, 7, {}}, volume_role::primary);
  auto back = on_peer_hello("disk", ahead, hello_of(same));
  EXPECT_EQ(back.action, connect_action::resync_source);
  EXPECT_FALSE(back.is_full);
  EXPECT_EQ(on_peer_hello("disk", same, hello_of(ahead)).action, connect_action::resync_target);

  auto interrupted = meta({7, 0, {}}, volume_role::secondary, false);
  auto full = on_peer_hello("disk", interrupted, hello_of(same));
  EXPECT_EQ(full.action, connect_action::resync_target);
  EXPECT_TRUE(full.is_full);

  auto other = meta({9, 7, {}}, volume_role::secondary);
  auto sb = on_peer_hello("disk", ahead, hello_of(other));
  EXPECT_EQ(sb.action, connect_action::refuse);
  EXPECT_TRUE(sb.is_split_brain);
  EXPECT_NE(sb.reason.find("split brain"), std::string::npos);

  auto fresh = meta({0, 0, {}});
  EXPECT_EQ(on_peer_hello("disk", fresh, hello_of(fresh)).action, connect_action::refuse);
  EXPECT_EQ(on_peer_hello("disk", fresh, hello_of(same)).action, connect_action::resync_target);
}

TEST(peer_rules, mismatches_are_refused_with_the_reason) {
  auto m = meta({7, 0, {}});
  auto h = hello_of(m, "other");
  EXPECT_NE(on_peer_hello("disk", m, h).reason.find("volume 'other'"), std::string::npos);
  h = hello_of(m);
  h.size_bytes *= 2;
  EXPECT_NE(on_peer_hello("disk", m, h).reason.find("size"), std::string::npos);
  h = hello_of(m);
  h.region_bytes = 4096;
  EXPECT_EQ(on_peer_hello("disk", m, h).action, connect_action::refuse);
  auto p = meta({7, 0, {}}, volume_role::primary);
  EXPECT_NE(on_peer_hello("disk", p, hello_of(p)).reason.find("both sides are primary"),
            std::string::npos);
}

TEST(peer_rules, promotion) {
  auto secondary = meta({7, 0, {}});
  EXPECT_TRUE(can_promote(secondary, {}));
  EXPECT_TRUE(can_promote(secondary, {true, false, false, false}));
  auto refused = can_promote(secondary, {true, true, false, false});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::conflict);
  EXPECT_TRUE(can_promote(secondary, {true, true, true, false}));  // migration hand-over
  EXPECT_FALSE(can_promote(secondary, {false, false, false, true}));
  EXPECT_FALSE(can_promote(meta({7, 0, {}}, volume_role::secondary, false), {}));
  EXPECT_TRUE(can_promote(meta({7, 0, {}}, volume_role::primary), {true, true, false, false}));
}

TEST(peer_rules, a_side_that_crashed_while_primary_resyncs_its_extents) {
  auto crashed = meta({7, 0, {}});  // came back as secondary, same generation
  auto peer = meta({7, 0, {}});
  auto v = on_peer_hello("disk", crashed, hello_of(peer), {true, false});
  EXPECT_EQ(v.action, connect_action::resync_source) << v.reason;
  EXPECT_FALSE(v.is_full);
  auto mirrored = on_peer_hello("disk", peer, hello_of(crashed), {false, true});
  EXPECT_EQ(mirrored.action, connect_action::resync_target) << mirrored.reason;

  // The peer took over (primary now): its data wins; it sends our extents
  // (which our bitmap frame tells it), not every region.
  auto taken_over = meta({7, 0, {}}, volume_role::primary);
  auto target = on_peer_hello("disk", crashed, hello_of(taken_over), {true, false});
  EXPECT_EQ(target.action, connect_action::resync_target) << target.reason;
  auto source = on_peer_hello("disk", taken_over, hello_of(crashed), {false, true});
  EXPECT_EQ(source.action, connect_action::resync_source);
  EXPECT_FALSE(source.is_full);

  // The peer took over and wrote: its bitmap plus our extents.
  auto wrote = meta({9, 7, {}}, volume_role::primary);
  auto union_sync = on_peer_hello("disk", wrote, hello_of(crashed), {false, true});
  EXPECT_EQ(union_sync.action, connect_action::resync_source);
  EXPECT_FALSE(union_sync.is_full);

  auto both = on_peer_hello("disk", crashed, hello_of(peer), {true, true});
  EXPECT_EQ(both.action, connect_action::refuse);
  EXPECT_TRUE(both.is_split_brain);
}

}  // namespace
}  // namespace vcube::esan
