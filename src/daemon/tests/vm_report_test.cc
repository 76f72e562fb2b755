#include "daemon/vm_report.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::daemon {
namespace {

using namespace domain::test;

class vm_report : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = domain::store::open(":memory:");
    ASSERT_TRUE(opened);
    s = std::move(*opened);
    ASSERT_TRUE(s->apply(apply_request(
        {put("node", "n1", node_value(1, "10.0.0.1")), put("node", "n2", node_value(2, "10.0.0.2")),
         put("network", "lan", network_value()), put("vm", "vm1", vm_value("n1"))})));
  }
  void apply(const std::vector<domain::change>& changes) {
    auto v = s->apply(apply_request(changes));
    ASSERT_TRUE(v) << v.err().message;
  }
  std::unique_ptr<domain::store> s;
  const local_vm running{"running", "", 100, 100, false, "tcg", 0};
};

TEST_F(vm_report, reports_a_new_vm_then_nothing) {
  auto changes = status_changes("n1", {{"vm1", running}}, *s, 200);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, "vm_status");
  EXPECT_EQ(changes[0].value["state"], "running");
  EXPECT_EQ(changes[0].value["accel"], "tcg");
  EXPECT_EQ(changes[0].base_version, 0u);
  apply(changes);
  EXPECT_TRUE(status_changes("n1", {{"vm1", running}}, *s, 200).empty());
}

TEST_F(vm_report, reports_a_change_against_the_version_it_saw) {
  apply(status_changes("n1", {{"vm1", running}}, *s, 200));
  local_vm stopped{"stopped", "guest shut down", 150, 0, false, "tcg", 0};
  auto changes = status_changes("n1", {{"vm1", stopped}}, *s, 200);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].base_version, s->get("vm_status", "vm1")->version);
  EXPECT_EQ(changes[0].value["reason"], "guest shut down");
}

TEST_F(vm_report, a_vm_no_longer_here_is_reported_crashed) {
  apply(status_changes("n1", {{"vm1", running}}, *s, 200));
  auto changes = status_changes("n1", {}, *s, 300);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].value["state"], "crashed");
  EXPECT_EQ(changes[0].value["since"], 300);
  // Another node's report is not ours to correct.
  EXPECT_TRUE(status_changes("n2", {}, *s, 300).empty());
}

TEST_F(vm_report, a_status_of_a_deleted_vm_is_removed) {
  apply({put("vm_status", "vm1", domain::test::vm_status_value("n1", "stopped"))});
  apply({remove("vm", "vm1")});
  auto changes = status_changes("n1", {}, *s, 300);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].op, domain::change::op_type::remove);
}

TEST_F(vm_report, node_resources_are_recorded_once) {
  auto changes = resource_changes("n1", {4096, 4}, *s);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].value["memory_mib"], 4096);
  EXPECT_EQ(changes[0].value["mode"], "online");
  apply(changes);
  EXPECT_TRUE(resource_changes("n1", {4096, 4}, *s).empty());
  EXPECT_TRUE(resource_changes("n9", {4096, 4}, *s).empty());
  EXPECT_GT(local_resources().memory_mib, 0);
  EXPECT_GT(local_resources().cpus, 0);
}

TEST_F(vm_report, a_stopped_vm_assigned_elsewhere_is_not_ours_to_report) {
  apply({put("vm", "vm1", vm_value("n2"))});
  local_vm stopped{"stopped", "host request", 150, 0, false, "tcg", 0};
  EXPECT_TRUE(status_changes("n1", {{"vm1", stopped}}, *s, 200).empty());
  // Running here against the assignment: reported, so the truth is visible.
  EXPECT_EQ(status_changes("n1", {{"vm1", running}}, *s, 200).size(), 1u);
}

TEST(vm_report_words, stop_reasons) {
  EXPECT_EQ(describe_stop_reason("guest-shutdown"), "guest shut down");
  EXPECT_EQ(describe_stop_reason("host-qmp-quit"), "host request");
  EXPECT_EQ(describe_stop_reason("host-signal"), "host request");
  EXPECT_EQ(describe_stop_reason("guest-panic"), "guest panicked");
}

}  // namespace
}  // namespace vcube::daemon
