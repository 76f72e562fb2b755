#include "domain/replicator.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"
#include "domain/tests/sim_bus.h"

namespace vcube::domain {
namespace {

using namespace test;

write_request put_network(const std::string& name, int vlan) {
  return apply_request({put("network", name, network_value(vlan))});
}

// A bus with all `n` nodes up in one group, synced.
std::unique_ptr<sim_bus> started(size_t n, uint64_t seed = 1) {
  auto bus = std::make_unique<sim_bus>(n, seed);
  bus->set_groups(std::vector<int>(n, 0));
  bus->run_until_quiet();
  for (uint32_t id = 1; id <= n; ++id)
    EXPECT_TRUE(bus->node(id).rep->is_synced());
  return bus;
}

TEST(replicator, starts_synced_when_all_agree) {
  auto bus = started(3);
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_EQ(bus->node(1).state_replacements, 0);
}

TEST(replicator, writes_converge) {
  auto bus = started(3);
  uint64_t id = bus->submit(2, put_network("lan", 10));
  bus->run_until_quiet();
  ASSERT_TRUE(bus->node(2).completed.count(id));
  EXPECT_EQ(*bus->node(2).completed.at(id), 1u);
  for (uint32_t n = 1; n <= 3; ++n) {
    EXPECT_TRUE(bus->node(n).db->get("network", "lan"));
    ASSERT_EQ(bus->node(n).applied.size(), 1u);
  }
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_TRUE(bus->node(1).completed.empty());  // only the origin completes
}

TEST(replicator, store_errors_reach_the_origin_only) {
  auto bus = started(2);
  uint64_t id = bus->submit(1, apply_request({remove("network", "missing")}));
  bus->run_until_quiet();
  ASSERT_TRUE(bus->node(1).completed.count(id));
  EXPECT_EQ(bus->node(1).completed.at(id).err().code, errc::not_found);
  EXPECT_EQ(bus->node(2).db->version(), 0u);
}

TEST(replicator, concurrent_writes_converge) {
  auto bus = started(3);
  for (int round = 0; round < 10; ++round)
    for (uint32_t n = 1; n <= 3; ++n)
      bus->submit(n, apply_request({put("network", "shared", network_value(round * 3 + int(n)),
                                        std::nullopt)}));
  bus->run_until_quiet();
  EXPECT_EQ(bus->node(1).db->version(), 30u);
  EXPECT_TRUE(bus->synced_groups_agree());
  for (uint32_t n = 1; n <= 3; ++n)
    EXPECT_TRUE(bus->node(n).pending.empty());
}

// votequorum's verdict is not in CPG's order: a minority may still believe it
// is quorate for a moment. Its writes must not apply there, or its version
// could overtake the majority's and win the merge.
TEST(replicator, minority_that_still_believes_it_is_quorate_applies_nothing) {
  auto bus = started(3);
  bus->submit(1, apply_request({put("node", "n1", node_value(1, "192.0.2.1")),
                                put("node", "n2", node_value(2, "192.0.2.2")),
                                put("node", "n3", node_value(3, "192.0.2.3"))}));
  bus->run_until_quiet();
  bus->set_groups({0, 0, 1});
  bus->run_until_quiet();
  bus->node(3).rep->set_quorate(true);  // the stale verdict
  uint64_t id = bus->submit(3, put_network("minority", 1));
  bus->run_until_quiet();
  ASSERT_TRUE(bus->node(3).completed.count(id));
  EXPECT_EQ(bus->node(3).completed.at(id).err().code, errc::no_quorum);
  EXPECT_EQ(bus->node(3).db->version(), 1u);
  bus->submit(1, put_network("majority", 2));
  bus->run_until_quiet();
  bus->set_groups({0, 0, 0});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_TRUE(bus->node(3).db->get("network", "majority"));
  EXPECT_FALSE(bus->node(1).db->get("network", "minority"));
}

TEST(replicator, minority_with_old_state_converges_after_merge) {
  auto bus = started(3);
  bus->submit(1, put_network("a", 1));
  bus->run_until_quiet();
  bus->set_groups({0, 0, 1});  // node 3 alone keeps version 1
  bus->run_until_quiet();
  for (int i = 0; i < 5; ++i)
    bus->submit(1, put_network("b", 10 + i));
  bus->run_until_quiet();
  EXPECT_EQ(bus->node(1).db->version(), 6u);
  EXPECT_EQ(bus->node(3).db->version(), 1u);
  bus->set_groups({0, 0, 0});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->is_group_synced(0));
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_EQ(bus->node(3).db->version(), 6u);
  EXPECT_EQ(bus->node(3).state_replacements, 1);
  EXPECT_EQ(bus->node(1).state_replacements, 0);
}

TEST(replicator, equal_versions_different_content_go_to_lowest_id) {
  auto bus = started(2);
  bus->set_groups({0, 1});
  bus->run_until_quiet();
  bus->node(1).rep->set_quorate(true);  // corosync two_node: both halves stay quorate
  bus->node(2).rep->set_quorate(true);
  bus->submit(1, put_network("a", 1));
  bus->submit(2, put_network("b", 2));
  bus->run_until_quiet();
  bus->set_groups({0, 0});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_TRUE(bus->node(2).db->get("network", "a"));
  EXPECT_FALSE(bus->node(2).db->get("network", "b"));
}

TEST(replicator, restarted_member_with_empty_store_converges) {
  auto bus = started(3);
  for (int i = 0; i < 4; ++i)
    bus->submit(2, put_network("n" + std::to_string(i), i));
  bus->run_until_quiet();
  bus->set_groups({0, 0, -1});
  bus->run_until_quiet();
  bus->node(3).db.reset();  // the disk is gone too
  bus->set_groups({0, 0, 0});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_EQ(bus->node(3).db->version(), 4u);
  EXPECT_EQ(bus->node(3).db->list("network").size(), 4u);
}

// A two-node split (corosync two_node: each side alone is quorate): both
// sides write, node 2 is fenced and powered on again with more writes than
// node 1 made. Node 1's copy stays: a node fresh from a restart never
// overrides one that kept following the cluster.
TEST(replicator, two_node_a_side_fresh_from_a_restart_does_not_override_the_survivor) {
  auto bus = started(2);
  bus->is_two_node = true;
  bus->submit(1, apply_request({put("node", "n1", node_value(1, "10.0.0.1")),
                                put("node", "n2", node_value(2, "10.0.0.2"))}));
  bus->run_until_quiet();
  bus->set_groups({0, 1});  // split: both quorate
  bus->run_until_quiet();
  bus->submit(1, put_network("survivor", 1));
  for (int i = 0; i < 3; ++i)
    bus->submit(2, put_network("fenced" + std::to_string(i), i));
  bus->run_until_quiet();
  ASSERT_GT(bus->node(2).db->version(), bus->node(1).db->version());
  bus->set_groups({0, -1});  // node 2 is fenced
  bus->run_until_quiet();
  bus->set_groups({0, 0});  // and powered on again: its store survived
  bus->run_until_quiet();
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_TRUE(bus->node(2).db->get("network", "survivor"));
  EXPECT_FALSE(bus->node(2).db->get("network", "fenced0"));
}

// Without a restart both copies followed their side: the highest version
// wins, as with a majority quorum.
TEST(replicator, two_node_a_healed_split_without_restarts_keeps_the_highest_version) {
  auto bus = started(2);
  bus->is_two_node = true;
  bus->submit(1, apply_request({put("node", "n1", node_value(1, "10.0.0.1")),
                                put("node", "n2", node_value(2, "10.0.0.2"))}));
  bus->run_until_quiet();
  bus->set_groups({0, 1});
  bus->run_until_quiet();
  bus->submit(1, put_network("one", 1));
  for (int i = 0; i < 3; ++i)
    bus->submit(2, put_network("two" + std::to_string(i), i));
  bus->run_until_quiet();
  bus->set_groups({0, 0});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_TRUE(bus->node(1).db->get("network", "two0"));
}

TEST(replicator, writes_submitted_during_sync_are_held_then_applied) {
  auto bus = started(3);
  bus->set_groups({0, 0, 1});  // everyone syncs again; nothing delivered yet
  EXPECT_FALSE(bus->node(1).rep->is_synced());
  uint64_t id = bus->submit(1, put_network("lan", 5));
  EXPECT_TRUE(bus->node(1).pending.count(id));
  bus->run_until_quiet();
  ASSERT_TRUE(bus->node(1).completed.count(id));
  EXPECT_TRUE(bus->node(1).completed.at(id).ok());
  EXPECT_TRUE(bus->node(2).db->get("network", "lan"));
  EXPECT_FALSE(bus->node(3).db->get("network", "lan"));
}

TEST(replicator, write_in_flight_across_membership_change_is_resubmitted) {
  auto bus = started(3);
  uint64_t id = bus->submit(1, put_network("lan", 5));  // queued, not delivered
  bus->set_groups({
      0,
      0,
      0,
  });                                // no change: nothing happens
  bus->set_groups({0, 0, 1});        // the write is now delivered after the change
  ASSERT_TRUE(bus->deliver_one(0));  // the stale write: rejected by 1 and 2
  EXPECT_EQ(bus->node(1).db->version(), 0u);
  EXPECT_EQ(bus->node(2).db->version(), 0u);
  EXPECT_TRUE(bus->node(1).pending.count(id));
  bus->run_until_quiet();
  ASSERT_TRUE(bus->node(1).completed.count(id));
  EXPECT_EQ(*bus->node(1).completed.at(id), 1u);
  EXPECT_EQ(bus->node(2).db->version(), 1u);
  EXPECT_TRUE(bus->synced_groups_agree());
}

TEST(replicator, no_quorum_holds_writes) {
  auto bus = started(3);
  bus->set_groups({0, 1, 2});
  bus->run_until_quiet();
  uint64_t id = bus->submit(1, put_network("lan", 5));
  bus->run_until_quiet();
  EXPECT_TRUE(bus->node(1).pending.count(id));
  EXPECT_EQ(bus->node(1).db->version(), 0u);
  bus->set_groups({0, 0, 2});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->node(1).completed.count(id));
  EXPECT_EQ(bus->node(2).db->version(), 1u);
}

TEST(replicator, divergence_is_found_by_a_check_and_repaired) {
  auto bus = started(3);
  bus->submit(1, put_network("lan", 5));
  bus->run_until_quiet();
  // Corrupt node 2's copy behind the protocol's back (same version + 1).
  ASSERT_TRUE(bus->node(2).db->apply(put_network("rogue", 9)).ok());
  ASSERT_FALSE(bus->synced_groups_agree());
  bus->start_check(3);
  bus->run_until_quiet();
  EXPECT_TRUE(bus->is_group_synced(0));
  EXPECT_TRUE(bus->synced_groups_agree());
  // The highest version wins, so the rogue write spreads: the repair makes
  // members agree, it does not judge which copy is right.
  EXPECT_EQ(bus->node(1).db->version(), 2u);
  bus->start_check(1);
  bus->run_until_quiet();
  EXPECT_EQ(bus->node(1).state_replacements, 1);
}

TEST(replicator, check_on_agreeing_members_changes_nothing) {
  auto bus = started(3);
  bus->submit(1, put_network("lan", 5));
  bus->run_until_quiet();
  bus->start_check(2);
  bus->start_check(3);
  bus->run_until_quiet();
  for (uint32_t n = 1; n <= 3; ++n) {
    EXPECT_TRUE(bus->node(n).rep->is_synced());
    EXPECT_EQ(bus->node(n).state_replacements, 0);
  }
}

TEST(replicator, garbage_and_strangers_are_ignored) {
  auto bus = started(2);
  sim_node& n = bus->node(1);
  n.rep->deliver(2, "garbage");
  n.rep->deliver(9, encode(write_message{9, 1, 1, put_network("x", 1)}));
  n.rep->deliver(2, encode(write_message{1, 1, 1, put_network("x", 1)}));  // origin != sender
  EXPECT_EQ(n.rep->malformed_messages(), 1u);
  EXPECT_EQ(n.db->version(), 0u);
  EXPECT_TRUE(n.rep->take_output().to_send.empty());
}

TEST(replicator, oversized_write_fails_at_once) {
  auto bus = started(1);
  std::vector<change> changes;
  for (int i = 0; i < 1000; ++i)
    changes.push_back(put("host", "h" + std::to_string(i),
                          {{"address", "h"}, {"description", std::string(1024, 'x')}}));
  uint64_t id = bus->submit(1, apply_request(changes));
  ASSERT_TRUE(bus->node(1).completed.count(id));
  EXPECT_EQ(bus->node(1).completed.at(id).err().code, errc::too_large);
}

TEST(replicator, large_snapshot_travels_in_parts) {
  auto bus = started(3);
  bus->set_groups({0, 0, -1});
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<change> changes;
    for (int i = 0; i < 300; ++i)
      changes.push_back(put("host", "h" + std::to_string(batch * 300 + i),
                            {{"address", "h"}, {"description", std::string(1000, 'x')}}));
    bus->submit(1, apply_request(changes));
    bus->run_until_quiet();
  }
  ASSERT_GT(bus->node(1).db->snapshot().dump().size(), 2 * state_chunk_bytes_max);
  bus->node(3).db.reset();
  bus->set_groups({0, 0, 0});
  bus->run_until_quiet();
  EXPECT_TRUE(bus->synced_groups_agree());
  EXPECT_EQ(bus->node(3).db->list("host").size(), 900u);
}

TEST(replicator, disconnect_fails_writes_in_flight) {
  auto bus = started(2);
  sim_node& n = bus->node(1);
  uint64_t id = n.rep->submit(put_network("lan", 1));
  n.rep->disconnected();
  auto out = n.rep->take_output();
  ASSERT_EQ(out.completed.size(), 1u);
  EXPECT_EQ(out.completed[0].first, id);
  EXPECT_EQ(out.completed[0].second.err().code, errc::unavailable);
  EXPECT_FALSE(n.rep->is_synced());
}

// Random schedules: deliveries, writes, partitions, crashes, restarts and
// checks. Whenever a group is fully synced its members agree; the version a
// quorate group holds never goes below an acknowledged write; at the end,
// with everyone merged, all agree and no write is left pending.
void run_random_schedule(uint64_t seed, size_t nodes) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  sim_bus bus(nodes, seed);
  prng& r = bus.random();
  bus.set_groups(std::vector<int>(nodes, 0));
  uint64_t acked_version = 0;
  for (int step = 0; step < 3000; ++step) {
    uint64_t dice = r.below(100);
    uint32_t id = uint32_t(1 + r.below(nodes));
    sim_node& n = bus.node(id);
    if (dice < 60) {
      bus.deliver_random();
    } else if (dice < 80 && n.rep) {
      auto name = "n" + std::to_string(r.below(4));
      if (r.chance(15))
        bus.submit(id, apply_request({remove("network", name)}));
      else if (r.chance(10))
        bus.submit(id,
                   request_of(write_request::type::stage, {put("host", name, {{"address", "h"}})}));
      else if (r.chance(10))
        bus.submit(id, request_of(r.chance(50) ? write_request::type::activate
                                               : write_request::type::discard));
      else
        bus.submit(id, apply_request({put(
                           "network", name, network_value(int(r.below(4095))),
                           r.chance(30) ? std::optional<uint64_t>(r.below(5)) : std::nullopt)}));
    } else if (dice < 85 && n.rep) {
      bus.start_check(id);
    } else if (dice < 89) {
      std::vector<int> groups;
      for (size_t i = 0; i < nodes; ++i)
        groups.push_back(r.chance(10) ? -1 : int(r.below(2)));
      bus.set_groups(groups);
    }
    for (uint32_t k = 1; k <= nodes; ++k)
      for (const auto& [rid, outcome] : bus.node(k).completed)
        if (outcome.ok())
          acked_version = std::max(acked_version, *outcome);
    ASSERT_TRUE(bus.synced_groups_agree()) << "step " << step;
    for (int g = 0; g < 2; ++g) {
      if (!bus.is_quorate(g) || !bus.is_group_synced(g))
        continue;
      for (uint32_t k : bus.members(g))
        ASSERT_GE(bus.node(k).db->version(), acked_version) << "step " << step;
    }
  }
  EXPECT_GT(acked_version, 20u);  // the schedule did make progress
  bus.set_groups(std::vector<int>(nodes, 0));
  bus.run_until_quiet();
  ASSERT_TRUE(bus.is_group_synced(0));
  ASSERT_TRUE(bus.synced_groups_agree());
  for (uint32_t k = 1; k <= nodes; ++k)
    EXPECT_TRUE(bus.node(k).pending.empty()) << "node " << k;
}

TEST(replicator, random_schedules_three_nodes) {
  for (uint64_t seed = 1; seed <= 30; ++seed)
    run_random_schedule(seed, 3);
}

TEST(replicator, random_schedules_two_and_five_nodes) {
  for (uint64_t seed = 100; seed <= 115; ++seed) {
    run_random_schedule(seed, 2);
    run_random_schedule(seed, 5);
  }
}

}  // namespace
}  // namespace vcube::domain
