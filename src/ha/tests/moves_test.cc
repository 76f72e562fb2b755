// Preference, standby evacuation and administrator move requests.
#include "ha/tests/harness.h"

namespace vcube::ha::testing {
namespace {

TEST(moves, preference_fails_back_by_a_clean_restart) {
  harness h;
  h.add_vm("web", 1024, "n2");
  h.node("n2").is_member = false;
  h.step(1000);
  EXPECT_EQ(h.rec("web").node, "n1");
  h.settle("web");
  h.step(2000);
  EXPECT_EQ(h.rec("web").state, vm_state::started);

  h.node("n2").is_member = true;
  h.step(3000);
  EXPECT_EQ(h.rec("web").state, vm_state::moving);
  EXPECT_EQ(h.rec("web").move_to, "n2");
  EXPECT_FALSE(h.rec("web").target_running);
  EXPECT_EQ(h.rec("web").node, "n1");
  h.step(4000);
  EXPECT_EQ(h.rec("web").node, "n1");  // not settled yet
  h.settle("web");
  h.step(5000);
  EXPECT_EQ(h.rec("web").node, "n2");
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_TRUE(h.rec("web").target_running);
  EXPECT_TRUE(h.rec("web").move_to.empty());
}

TEST(moves, standby_evacuates_or_warns_when_nothing_has_room) {
  harness h(2, 2048);
  h.add_vm("web", 1024, "n1");
  h.step(1000);
  h.settle("web");
  h.step(2000);
  h.node("n1").mode = node_mode::standby;
  h.step(3000);
  EXPECT_EQ(h.rec("web").state, vm_state::moving);
  EXPECT_EQ(h.rec("web").move_to, "n2");

  harness g(2, 2048);
  g.add_vm("web", 1024, "n1");
  g.step(1000);
  g.settle("web");
  g.step(2000);
  g.node("n1").mode = node_mode::standby;
  g.node("n2").memory_mib = 512;
  EXPECT_EQ(g.step(3000), lines{"alert warning cannot leave standby node: web"});
  EXPECT_EQ(g.rec("web").state, vm_state::started);
}

TEST(moves, requests_get_exactly_one_answer_each) {
  harness h(4, 2048);
  h.add_vm("web", 1024, "n1");
  h.add_vm("db", 1024, "n1");
  h.step(1000);
  h.settle("web");
  h.step(2000);  // db is still starting
  h.node("n2").mode = node_mode::standby;
  h.node("n3").is_member = false;
  h.node("n4").has_fence_device = false;
  h.in.move_requests = {{"web", "n2"}, {"web", "n3"},  {"web", "n4"},
                        {"db", "n1"},  {"nope", "n1"}, {"web", "n1"}};
  EXPECT_EQ(h.step(3000),
            (lines{"move web refused: standby", "move web refused: not a member",
                   "move web refused: no fence device", "move db refused: VM not running",
                   "move nope refused: VM not HA", "move web refused: already running there"}));
  h.node("n4").has_fence_device = true;
  h.node("n4").memory_mib = 512;
  h.in.move_requests = {{"web", "n4"}};
  EXPECT_EQ(h.step(4000), lines{"move web refused: not enough memory"});
  h.node("n4").memory_mib = 2048;
  h.in.move_requests = {{"web", "n4"}};
  EXPECT_EQ(h.step(5000), lines{"move web accepted"});
  EXPECT_EQ(h.rec("web").move_to, "n4");
}

TEST(moves, sticky_vms_are_not_moved) {
  harness h(2);
  h.add_vm("web", 1024, "n1");
  h.vm("web").is_sticky = true;
  h.step(1000);
  h.settle("web");
  h.step(2000);
  h.in.move_requests = {{"web", "n2"}};
  EXPECT_EQ(h.step(3000), lines{"move web refused: sticky"});
  h.node("n1").mode = node_mode::standby;
  h.step(4000);
  EXPECT_EQ(h.rec("web").state, vm_state::started);
}

}  // namespace
}  // namespace vcube::ha::testing
