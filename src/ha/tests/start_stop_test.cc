// Starting, stopping and placing HA VMs.
#include "ha/tests/harness.h"

namespace vcube::ha::testing {
namespace {

TEST(start_stop, starts_on_the_preferred_node_then_reports_started) {
  harness h;
  h.add_vm("web", 1024, "n2");
  EXPECT_EQ(h.step(1000), lines{});
  EXPECT_EQ(h.rec("web").node, "n2");
  EXPECT_TRUE(h.rec("web").target_running);
  EXPECT_EQ(h.rec("web").epoch, 1);
  EXPECT_EQ(h.rec("web").state, vm_state::starting);

  h.report("web", "n2", run_state::running, 0);  // not yet settled: still starting
  h.step(1100);
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  h.settle("web");
  h.step(1200);
  EXPECT_EQ(h.rec("web").state, vm_state::started);
  EXPECT_EQ(h.rec("web").since_ms, 1200);
}

TEST(start_stop, places_by_free_memory_then_lower_id_and_by_priority) {
  harness h(3, 4096);
  h.add_vm("a", 3000);          // priority 0: placed after b
  h.add_vm("b", 3000, "", 10);  // the empty nodes tie: lowest id n1
  h.add_vm("c", 3000, "", 10);  // n1 has less room now: n2
  h.step(1000);
  EXPECT_EQ(h.rec("b").node, "n1");
  EXPECT_EQ(h.rec("c").node, "n2");
  EXPECT_EQ(h.rec("a").node, "n3");
}

TEST(start_stop, non_ha_vm_counts_for_memory_where_it_runs) {
  harness h(2, 4096);
  vm_info plain;
  plain.name = "plain";
  plain.memory_mib = 3500;
  plain.node = "n1";
  h.in.vms.push_back(plain);
  h.report("plain", "n1", run_state::running, 0);
  h.add_vm("web", 1024, "n1");
  h.step(1000);
  EXPECT_EQ(h.rec("web").node, "n2");  // the preferred node has no room
  EXPECT_FALSE(h.st.vms.contains("plain"));
}

TEST(start_stop, no_room_waits_with_a_rate_limited_alert_and_starts_when_room_appears) {
  harness h(2, 1024);
  h.cfg.alert_repeat_ms = 10'000;
  h.add_vm("big", 2048);
  EXPECT_EQ(h.step(1000), lines{"alert critical cannot place big"});
  EXPECT_EQ(h.rec("big").state, vm_state::recovering);
  EXPECT_EQ(h.rec("big").message, "no node with room and a working fence device");
  EXPECT_FALSE(h.rec("big").target_running);
  EXPECT_EQ(h.step(5000), lines{});
  EXPECT_EQ(h.step(11'000), lines{"alert critical cannot place big"});
  h.node("n2").memory_mib = 4096;
  EXPECT_EQ(h.step(12'000), lines{});
  EXPECT_EQ(h.rec("big").node, "n2");
  EXPECT_EQ(h.rec("big").state, vm_state::starting);
  EXPECT_TRUE(h.st.alerted_ms.empty());
}

TEST(start_stop, a_node_without_fence_device_is_no_candidate) {
  harness h(2);
  h.node("n1").has_fence_device = false;
  h.add_vm("web", 1024, "n1");
  h.step(1000);
  EXPECT_EQ(h.rec("web").node, "n2");
}

TEST(start_stop, stop_waits_for_the_settled_report) {
  harness h;
  h.add_vm("web");
  h.step(1000);
  h.settle("web");
  h.step(2000);
  h.vm("web").wants_running = false;
  h.step(3000);
  EXPECT_EQ(h.rec("web").state, vm_state::stopping);
  EXPECT_FALSE(h.rec("web").target_running);
  EXPECT_EQ(h.rec("web").epoch, 2);
  h.step(4000);
  EXPECT_EQ(h.rec("web").state, vm_state::stopping);
  h.settle("web");
  h.step(5000);
  EXPECT_EQ(h.rec("web").state, vm_state::stopped);
  h.vm("web").wants_running = true;
  h.step(6000);
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_EQ(h.rec("web").epoch, 3);
}

TEST(start_stop, records_of_removed_or_non_ha_vms_are_dropped) {
  harness h;
  h.add_vm("a");
  h.add_vm("b");
  h.step(1000);
  ASSERT_EQ(h.st.vms.size(), 2u);
  h.vm("a").is_ha = false;
  h.in.vms.pop_back();
  h.step(2000);
  EXPECT_TRUE(h.st.vms.empty());
}

TEST(start_stop, adopts_a_vm_that_already_runs) {
  harness h;
  h.add_vm("web", 1024, "n2");
  h.report("web", "n3", run_state::running, 0);
  h.step(1000);
  EXPECT_EQ(h.rec("web").node, "n3");
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
}

}  // namespace
}  // namespace vcube::ha::testing
