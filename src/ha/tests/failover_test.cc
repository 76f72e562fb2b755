// Lost nodes: fencing, the fence race, and recovery only after a confirmed fence.
#include "ha/tests/harness.h"

namespace vcube::ha::testing {
namespace {

// n1 (manager), n2, n3; "web" started on n2.
harness with_web_on_n2(int nodes = 3) {
  harness h(nodes);
  h.add_vm("web", 1024, "n2");
  h.step(1000);
  h.settle("web");
  h.step(2000);
  EXPECT_EQ(h.rec("web").state, vm_state::started);
  return h;
}

TEST(failover, lost_node_is_fenced_and_its_vm_recovers_only_after_confirmation) {
  harness h = with_web_on_n2();
  h.node("n2").is_member = false;
  EXPECT_EQ(h.step(3000), lines{"fence n2 delay=0"});
  const fence_record& f = h.st.fences.at("n2");
  EXPECT_EQ(f.state, fence_state::requested);
  EXPECT_EQ(f.owner, "n1");
  EXPECT_EQ(f.attempts, 1);
  EXPECT_EQ(h.rec("web").state, vm_state::fence_wait);
  EXPECT_EQ(h.rec("web").node, "n2");
  EXPECT_EQ(h.step(4000), lines{});
  EXPECT_EQ(h.rec("web").node, "n2");

  h.in.fence_results.push_back({"n2", true, ""});
  h.step(5000);
  EXPECT_EQ(h.st.fences.at("n2").state, fence_state::confirmed);
  EXPECT_EQ(h.rec("web").node, "n1");  // preferred n2 is down; n1 and n3 tie: lower id
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_TRUE(h.rec("web").restarts_ms.empty());
  EXPECT_EQ(h.rec("web").epoch, 3);

  h.node("n2").is_member = true;  // came back empty; the confirmed fence is done with
  h.report("web", "n1", run_state::running, 3);
  h.step(6000);
  EXPECT_TRUE(h.st.fences.empty());
  EXPECT_EQ(h.rec("web").state, vm_state::moving);  // started, then back to its preference
  EXPECT_EQ(h.rec("web").move_to, "n2");
}

TEST(failover, a_vm_on_esan_disks_recovers_only_where_its_disks_are) {
  harness h(3);
  h.add_vm("db", 1024, "n2").allowed_nodes = {"n2", "n3"};
  h.step(1000);
  h.settle("db");
  h.step(2000);
  h.node("n2").is_member = false;
  h.step(3000);
  h.in.fence_results.push_back({"n2", true, ""});
  h.step(5000);
  EXPECT_EQ(h.rec("db").node, "n3");  // n1 has more room and a lower id, but not the disks
  h.node("n3").is_member = false;
  h.step(6000);
  h.in.fence_results.push_back({"n3", true, ""});
  h.step(8000);
  EXPECT_EQ(h.rec("db").node, "n3");  // nowhere else to go: it waits for a disk node
  EXPECT_NE(h.rec("db").state, vm_state::starting);
}

TEST(failover, a_vm_prefers_the_nodes_with_its_disks_and_runs_diskless_elsewhere) {
  harness h(3);
  vm_info& db = h.add_vm("db", 1024, "n2");
  db.local_nodes = {"n2", "n3"};
  db.storage_nodes = {"n2", "n3"};
  h.step(1000);
  h.settle("db");
  h.step(2000);
  h.node("n2").is_member = false;
  h.step(3000);
  h.in.fence_results.push_back({"n2", true, ""});
  h.step(5000);
  EXPECT_EQ(h.rec("db").node, "n3");  // n1 has more room, but n3 has a copy
  h.node("n3").mode = node_mode::standby;
  h.vm("db").local_nodes = {"n3"};
  h.report("db", "n3", run_state::running, h.rec("db").epoch);
  h.step(6000);
  // No node with a copy can take it: n1 runs it diskless, served by n3.
  EXPECT_EQ(h.rec("db").move_to, "n1");
}

TEST(failover, a_lost_disk_node_of_a_diskless_vm_is_fenced) {
  harness h(3);
  vm_info& db = h.add_vm("db", 1024, "n1");
  db.storage_nodes = {"n2", "n3"};
  h.step(1000);
  h.settle("db");
  h.step(2000);
  h.node("n3").is_member = false;  // it may have been serving db's disk to n1
  EXPECT_EQ(h.step(3000), lines{"fence n3 delay=0"});
  EXPECT_EQ(h.rec("db").node, "n1");  // db itself stays where it runs
  EXPECT_EQ(h.rec("db").state, vm_state::started);
}

TEST(failover, a_lost_disk_node_of_a_vm_running_on_the_other_copy_is_not_fenced) {
  harness h(3);
  vm_info& db = h.add_vm("db", 1024, "n2");
  db.storage_nodes = {"n2", "n3"};
  h.step(1000);
  h.settle("db");
  h.step(2000);
  h.node("n3").is_member = false;  // a secondary: the primary is db's own node
  EXPECT_EQ(h.step(3000), lines{});
}

TEST(failover, failed_fence_alerts_and_retries) {
  harness h = with_web_on_n2();
  h.cfg.fence_retry_ms = 5000;
  h.node("n2").is_member = false;
  h.step(3000);
  h.in.fence_results.push_back({"n2", false, "timeout"});
  EXPECT_EQ(h.step(4000), lines{"alert critical fence failed: n2"});
  EXPECT_EQ(h.st.fences.at("n2").state, fence_state::failed);
  EXPECT_EQ(h.st.fences.at("n2").next_attempt_ms, 9000);
  EXPECT_EQ(h.step(8999), lines{});
  EXPECT_EQ(h.step(9000), lines{"fence n2 delay=0"});
  EXPECT_EQ(h.st.fences.at("n2").attempts, 2);
  EXPECT_EQ(h.rec("web").node, "n2");
}

TEST(failover, no_fence_device_fails_and_retries_once_a_device_exists) {
  harness h = with_web_on_n2();
  h.node("n2").is_member = false;
  h.node("n2").has_fence_device = false;
  EXPECT_EQ(h.step(3000), lines{"alert critical fence failed: n2"});
  EXPECT_EQ(h.st.fences.at("n2").message, "no fence device for node n2");
  EXPECT_EQ(h.step(9000), lines{});
  h.node("n2").has_fence_device = true;
  EXPECT_EQ(h.step(15'000), lines{"fence n2 delay=0"});
  EXPECT_EQ(h.st.fences.at("n2").attempts, 1);
}

TEST(failover, another_owner_or_a_timeout_asks_again) {
  harness h = with_web_on_n2();
  h.cfg.fence_timeout_ms = 60'000;
  h.node("n2").is_member = false;
  h.step(3000);
  EXPECT_EQ(h.step(62'999), lines{});
  EXPECT_EQ(h.step(63'000), lines{"fence n2 delay=0"});
  h.st.fences.at("n2").owner = "n3";
  EXPECT_EQ(h.step(64'000), lines{"fence n2 delay=0"});
  EXPECT_EQ(h.st.fences.at("n2").owner, "n1");
  EXPECT_EQ(h.st.fences.at("n2").attempts, 3);
}

TEST(failover, two_node_race_delays_the_weaker_side) {
  harness h = with_web_on_n2(2);  // n2 runs web, n1 runs nothing: n1 is weaker
  h.node("n2").is_member = false;
  EXPECT_EQ(h.step(3000), lines{"fence n2 delay=5000"});

  harness g = with_web_on_n2(2);  // seen from n2, n1 is the lost one
  g.in.self = "n2";
  g.node("n1").is_member = false;
  g.vm("web").preferred_node = "n2";
  g.add_vm("db", 1024, "n1");
  g.report("db", "n1", run_state::running, 0);  // equal weights: the higher id waits
  g.st.vms["db"] = vm_record{"n1", true, 0, vm_state::started, "", {}, "", 0};
  EXPECT_EQ(g.step(3000), lines{"fence n1 delay=5000"});
}

TEST(failover, two_node_side_with_vms_races_a_peer_without_vms) {
  harness h = with_web_on_n2(2);  // seen from n2, which runs web; n1 runs nothing
  h.in.self = "n2";
  h.node("n1").is_member = false;
  h.vm("web").preferred_node = "n2";
  EXPECT_EQ(h.step(3000), lines{"fence n1 delay=0"});
}

// Two nodes: a VM (HA or not) on an eSAN disk here holds its writes while
// the disk's other node is lost until that node is off (docs/esan.md,
// "Fencing"), so this side fences it.
TEST(failover, two_node_side_with_a_vm_on_the_lost_peers_disk_fences_it) {
  harness h(2);
  vm_info& db = h.add_vm("db", 1024, "n1");
  db.is_ha = false;
  db.storage_nodes = {"n1", "n2"};
  h.report("db", "n1", run_state::running, 0);
  h.node("n2").is_member = false;
  EXPECT_EQ(h.step(3000), lines{"fence n2 delay=0"});

  harness g(2);  // a VM without eSAN disks: nothing to hold
  vm_info& plain = g.add_vm("plain", 1024, "n1");
  plain.is_ha = false;
  g.report("plain", "n1", run_state::running, 0);
  g.node("n2").is_member = false;
  EXPECT_EQ(g.step(3000), lines{});
}

TEST(failover, node_back_before_the_fence_cancels_it) {
  harness h = with_web_on_n2();
  h.node("n2").is_member = false;
  h.step(3000);
  h.node("n2").is_member = true;
  h.step(4000);
  EXPECT_TRUE(h.st.fences.empty());
  EXPECT_EQ(h.rec("web").state, vm_state::started);
  EXPECT_EQ(h.rec("web").node, "n2");
}

TEST(failover, lost_node_without_ha_vms_is_not_fenced) {
  harness h = with_web_on_n2();
  h.node("n3").is_member = false;
  EXPECT_EQ(h.step(3000), lines{});
  EXPECT_TRUE(h.st.fences.empty());
}

TEST(failover, unwanted_vm_of_a_fenced_node_stays_stopped) {
  harness h = with_web_on_n2();
  h.node("n2").is_member = false;
  h.step(3000);
  h.vm("web").wants_running = false;
  h.step(4000);
  EXPECT_EQ(h.rec("web").state, vm_state::fence_wait);
  h.in.fence_results.push_back({"n2", true, ""});
  h.step(5000);
  EXPECT_EQ(h.rec("web").state, vm_state::stopped);
  EXPECT_FALSE(h.rec("web").target_running);
}

TEST(failover, sticky_vm_waits_for_its_node_and_release_recovers_it) {
  harness h = with_web_on_n2();
  h.vm("web").is_sticky = true;
  h.vm("web").node = "n2";
  h.node("n2").is_member = false;
  h.step(3000);
  h.in.fence_results.push_back({"n2", true, ""});
  EXPECT_EQ(h.step(4000), lines{"alert warning sticky VM down: web"});
  EXPECT_EQ(h.rec("web").state, vm_state::sticky_down);
  EXPECT_EQ(h.rec("web").message, "waiting for node n2 (not a member)");
  h.node("n2").is_member = true;
  h.step(5000);
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_EQ(h.rec("web").node, "n2");

  h.settle("web");
  h.step(6000);
  h.node("n2").is_member = false;
  h.step(7000);
  h.in.fence_results.push_back({"n2", true, ""});
  h.step(8000);
  EXPECT_EQ(h.rec("web").state, vm_state::sticky_down);
  h.vm("web").is_sticky = false;  // release
  h.step(9000);
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_EQ(h.rec("web").node, "n1");
}

TEST(failover, clock_going_back_delays_a_retry_but_does_not_lose_it) {
  harness h = with_web_on_n2();
  h.cfg.fence_timeout_ms = 60'000;
  h.node("n2").is_member = false;
  h.step(1'000'000);
  EXPECT_EQ(h.step(10'000), lines{});  // one hour back
  EXPECT_EQ(h.step(69'999), lines{});
  EXPECT_EQ(h.step(70'000), lines{"fence n2 delay=0"});
}

}  // namespace
}  // namespace vcube::ha::testing
