#include "daemon/ha_bridge.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::daemon {
namespace {

using namespace domain::test;

json ha_vm_value(const std::string& node, const std::string& state = "started") {
  json v = vm_value(node);
  v["ha"] = {{"state", state}, {"priority", 3}, {"preferred_node", "n2"}};
  return v;
}

json lab_device() {
  return {{"agent", "fence_redfish"},
          {"options", {{"ip", "127.0.0.1"}, {"password", "secret"}}},
          {"nodes",
           {{"n1", {{"systems_uri", "/redfish/v1/Systems/n1"}}},
            {"n2", {{"systems_uri", "/redfish/v1/Systems/n2"}}}}}};
}

class ha_bridge : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = domain::store::open(":memory:");
    ASSERT_TRUE(opened);
    s = std::move(*opened);
    json n2 = node_value(2, "10.0.0.2");
    n2["mode"] = "standby";
    n2["memory_mib"] = 4096;
    apply({put("node", "n1", node_value(1, "10.0.0.1")), put("node", "n2", n2),
           put("node", "n3", node_value(3, "10.0.0.3")), put("network", "lan", network_value()),
           put("vm", "web", ha_vm_value("n1")), put("fence_device", "switch", lab_device())});
  }
  void apply(const std::vector<domain::change>& changes) {
    auto v = s->apply(apply_request(changes));
    ASSERT_TRUE(v) << v.err().message;
  }
  std::unique_ptr<domain::store> s;
};

TEST_F(ha_bridge, member_ids_become_node_names) {
  EXPECT_EQ(member_names(*s, {1, 3, 9}), (std::set<std::string>{"n1", "n3"}));
  EXPECT_TRUE(member_names(*s, {}).empty());
}

TEST_F(ha_bridge, a_fence_device_works_until_its_monitor_fails) {
  EXPECT_TRUE(has_working_fence_device(*s, "n1"));   // not checked yet: assumed working
  EXPECT_FALSE(has_working_fence_device(*s, "n3"));  // no device covers n3
  apply({put("fence_status", "switch", {{"ok", false}, {"message", "401"}})});
  EXPECT_FALSE(has_working_fence_device(*s, "n1"));
  EXPECT_TRUE(has_fence_device(*s, "n1"));
  // A member with only a failing device takes no HA VM; a lost node is still
  // fenced through it.
  auto in = ha_input_from(*s, ha_view{"n1", {1}, 0, {}});
  EXPECT_FALSE(in.nodes[0].has_fence_device);
  EXPECT_TRUE(in.nodes[1].has_fence_device);
  apply({put("fence_status", "switch", {{"ok", true}})});
  EXPECT_TRUE(has_working_fence_device(*s, "n1"));
}

TEST_F(ha_bridge, input_carries_nodes_vms_reports_and_requests) {
  json status = vm_status_value("n1", "running");
  status["ha_epoch"] = 4;
  apply({put("vm_status", "web", status),
         put("ha_request", "web", {{"type", "move"}, {"node", "n2"}})});
  auto in = ha_input_from(*s, ha_view{"n1", {1, 2}, 5000, {{"n3", true, ""}}});
  EXPECT_EQ(in.self, "n1");
  EXPECT_EQ(in.now_ms, 5000);
  EXPECT_EQ(in.cluster_node_count, 3);
  ASSERT_EQ(in.nodes.size(), 3u);
  EXPECT_EQ(in.nodes[1].name, "n2");
  EXPECT_EQ(in.nodes[1].mode, ha::node_mode::standby);
  EXPECT_EQ(in.nodes[1].memory_mib, 4096);
  EXPECT_TRUE(in.nodes[1].is_member);
  EXPECT_FALSE(in.nodes[2].is_member);
  EXPECT_FALSE(in.nodes[2].has_fence_device);
  ASSERT_EQ(in.vms.size(), 1u);
  EXPECT_TRUE(in.vms[0].is_ha);
  EXPECT_TRUE(in.vms[0].wants_running);
  EXPECT_EQ(in.vms[0].priority, 3);
  EXPECT_EQ(in.vms[0].preferred_node, "n2");
  ASSERT_EQ(in.reports.size(), 1u);
  EXPECT_EQ(in.reports[0].state, ha::run_state::running);
  EXPECT_EQ(in.reports[0].ha_epoch, 4);
  ASSERT_EQ(in.move_requests.size(), 1u);
  EXPECT_EQ(in.move_requests[0].node, "n2");
  ASSERT_EQ(in.fence_results.size(), 1u);
}

TEST_F(ha_bridge, a_vm_on_esan_disks_prefers_their_nodes_and_runs_diskless_while_served) {
  auto in = ha_input_from(*s, ha_view{"n1", {1, 2}, 0, {}});
  EXPECT_TRUE(in.vms[0].allowed_nodes.empty());
  EXPECT_TRUE(in.vms[0].local_nodes.empty());
  json disk = {{"size_mib", 64},
               {"nodes", {"n1", "n3"}},
               {"port", 7789},
               {"generation", "0123456789abcdef"}};
  json vm = ha_vm_value("n1");
  vm["disks"] = {{{"esan", "d1"}}};
  apply({put("esan_disk", "d1", disk), put("vm", "web", vm)});
  in = ha_input_from(*s, ha_view{"n1", {1, 2}, 0, {}});
  const std::vector<std::string> both = {"n1", "n3"};
  EXPECT_TRUE(in.vms[0].allowed_nodes.empty());  // n1 (a member) serves it anywhere
  EXPECT_EQ(in.vms[0].local_nodes, both);
  EXPECT_EQ(in.vms[0].storage_nodes, both);
  // n3's copy is still receiving its initial sync: not a place for the VM.
  apply({put("esan_status", "d1.n3",
             {{"disk", "d1"}, {"node", "n3"}, {"disk_state", "SyncTarget"}})});
  in = ha_input_from(*s, ha_view{"n1", {1, 2}, 0, {}});
  EXPECT_EQ(in.vms[0].local_nodes, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(in.vms[0].storage_nodes, both);
  // n1 is lost: no member can serve the disk, so only n1 itself could run it.
  in = ha_input_from(*s, ha_view{"n2", {2, 3}, 0, {}});
  EXPECT_EQ(in.vms[0].allowed_nodes, (std::vector<std::string>{"n1"}));
}

// Fencing: a copy the other node wrote without is no place for the VM; when
// the up-to-date node is lost, the VM waits for it.
TEST_F(ha_bridge, an_outdated_copy_does_not_count) {
  json disk = {{"size_mib", 64},
               {"nodes", {"n1", "n3"}},
               {"port", 7789},
               {"generation", "0123456789abcdef"},
               {"outdated", "n3"}};
  json vm = ha_vm_value("n1");
  vm["disks"] = {{{"esan", "d1"}}};
  apply({put("esan_disk", "d1", disk), put("vm", "web", vm)});
  auto in = ha_input_from(*s, ha_view{"n1", {1, 2, 3}, 0, {}});
  EXPECT_EQ(in.vms[0].local_nodes, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(in.vms[0].storage_nodes, (std::vector<std::string>{"n1", "n3"}));
  in = ha_input_from(*s, ha_view{"n2", {2, 3}, 0, {}});  // n1 lost
  EXPECT_EQ(in.vms[0].allowed_nodes, (std::vector<std::string>{"n1"}));
}

// A decision written to the domain reads back as the state it wrote, and its
// placement moves vm.node with it.
TEST_F(ha_bridge, changes_persist_the_next_state_and_the_placement) {
  auto current = ha_state_from(*s);
  EXPECT_TRUE(current.vms.empty());
  ha::state next;
  next.vms["web"] = ha::vm_record{"n3", true, 2, ha::vm_state::starting, "", {1000}, "", 1000};
  next.fences["n2"] = ha::fence_record{};
  next.fences["n2"].owner = "n1";
  next.fences["n2"].attempts = 1;
  next.alerted_ms["fence:n2"] = 900;
  ha::output out{next, {ha::raise_alert{"critical", "fence failed: n2", "401"}}};
  auto changes = ha_changes(*s, current, out, 1234);
  apply(changes);
  auto back = ha_state_from(*s);
  EXPECT_EQ(back.vms, next.vms);
  EXPECT_EQ(back.fences, next.fences);
  EXPECT_EQ(back.alerted_ms, next.alerted_ms);
  EXPECT_EQ(s->get("vm", "web")->value["node"], "n3");
  auto alerts = s->list("alert");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].name, time_ordered_name(1234, 0));
  EXPECT_EQ(alerts[0].value["subject"], "fence failed: n2");
  // Nothing changed: nothing to write.
  EXPECT_TRUE(ha_changes(*s, back, ha::output{back, {}}, 2000).empty());
}

// The base versions make a second, stale manager's write fail.
TEST_F(ha_bridge, a_write_from_a_stale_copy_is_refused) {
  ha::state next;
  next.vms["web"] = ha::vm_record{"n1", true, 1, ha::vm_state::starting, "", {}, "", 0};
  auto first = ha_changes(*s, {}, ha::output{next, {}}, 1000);
  auto stale = first;
  apply(first);
  auto again = s->apply(apply_request(stale));
  EXPECT_FALSE(again);
}

TEST_F(ha_bridge, history_and_alerts_keep_the_latest) {
  std::vector<domain::change> many;
  for (size_t i = 0; i < fence_log_kept_max; ++i)
    many.push_back(put("fence_log", time_ordered_name(1000, i),
                       {{"node", "n2"}, {"action", "off"}, {"ok", true}}));
  apply(many);
  auto changes = fence_log_changes(
      *s, {{{"node", "n2"}, {"action", "status"}, {"ok", true}, {"exit_code", 2}}}, 2000);
  apply(changes);
  auto log = s->list("fence_log");
  ASSERT_EQ(log.size(), fence_log_kept_max);
  EXPECT_EQ(log.front().name, time_ordered_name(1000, 1));  // the oldest went
  EXPECT_EQ(log.back().name, time_ordered_name(2000, 0));
  EXPECT_LT(time_ordered_name(999, 5), time_ordered_name(1000, 0));
}

}  // namespace
}  // namespace vcube::daemon
