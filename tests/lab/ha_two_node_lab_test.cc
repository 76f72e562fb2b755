// HA in a two-node lab (corosync two_node): when the interconnect is cut,
// both sides keep quorum and the fence is the tie-breaker. The side that runs
// no VM waits (fence race delay), so the switch, which serves one request at
// a time, powers off exactly one node, and the VM runs exactly once.
#include <gtest/gtest.h>

#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

const std::string guest_ip = "10.231.78.62";

TEST(HaTwoNodeLab, PartitionPowersOffExactlyOneNodeAndTheVmRunsOnce) {
  if (auto why = guest_skip_reason(); !why.empty())
    GTEST_SKIP() << why;
  std::string why;
  auto lab = lab_cluster::up(2, why);
  ASSERT_NE(lab, nullptr) << why;
  ASSERT_EQ(install_test_guest(), "");
  auto call = [&](int k, http::verb verb, const std::string& target,
                  std::optional<json> body = {}) {
    return lab->node(k).call(verb, target, std::move(body));
  };
  ASSERT_EQ(call(1, http::verb::put, "/api/v1/domain/network/lan",
                 json{{"value", {{"vlan", 0}, {"cidr", "10.231.78.0/24"}}}})
                .status,
            200u);
  json config = {{"vcpus", 1},
                 {"memory_mib", 256},
                 {"node", "n2"},
                 {"acceleration", "auto"},
                 {"disks", {{{"image", "db/disk0.raw"}, {"size_mib", 16}, {"cache", "none"}}}},
                 {"nics", {{{"network", "lan"}}}},
                 {"kernel",
                  {{"kernel", "vmlinux"},
                   {"initrd", "initrd.img"},
                   {"cmdline",
                    "console=ttyS0 quiet panic=-1 mitigations=off vcube.hostname=db "
                    "vcube.ip=" +
                        guest_ip + "/24"}}},
                 {"ha", {{"state", "stopped"}}}};
  ASSERT_EQ(call(1, http::verb::put, "/api/v1/vms/db", json{{"config", config}}).status, 200u);
  auto started = call(1, http::verb::post, "/api/v1/vms/db/start");
  ASSERT_EQ(started.status, 200u) << started.body.dump();
  ASSERT_TRUE(wait_until([] { return guest_http(guest_ip).is_object(); }, 90s));

  // n2 runs the VM, so n1 is the weaker side and waits before fencing.
  ASSERT_EQ(run_vcube({"lab", "partition", "2"}), 0);
  ASSERT_TRUE(wait_until([] { return count_of(switch_log(), "ForceOff 204") >= 1; }, 60s))
      << switch_log();
  // n1 was powered off by n2; n1's vcubed is gone, so nobody can fence n2
  // any more: the count is final.
  EXPECT_EQ(count_of(switch_log(),
                     "n2 POST /redfish/v1/Systems/n1/Actions/"
                     "ComputerSystem.Reset n1 ForceOff 204"),
            1u)
      << switch_log();
  EXPECT_EQ(count_of(switch_log(), "n2 ForceOff"), 0u) << switch_log();
  // n2's API address is on the cut link: ask inside n2.
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = node_cli(2, {"vm", "show", "db"}).body;
        return r.value("state", "") == "running" && r.value("node", "") == "n2";
      },
      30s))
      << node_cli(2, {"vm", "show", "db"}).body.dump();
  EXPECT_TRUE(guest_http(guest_ip).is_object());
  EXPECT_EQ(qemu_processes("db"), 1);
  json history;
  ASSERT_TRUE(wait_until(
      [&] {
        history = node_cli(2, {"fence", "history", "--node", "n1"}).body;
        return !history.value("items", json::array()).empty();
      },
      30s));
  EXPECT_TRUE(history["items"][0].value("ok", false)) << history.dump();

  // Healed and booted again, n1 rejoins; the VM stays on n2, once.
  ASSERT_EQ(run_vcube({"lab", "heal"}), 0);
  ASSERT_EQ(run_vcube({"lab", "start", "1"}), 0);
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = call(1, http::verb::get, "/api/v1/cluster/status").body;
        return s.is_object() && s["members"].size() == 2 && s.value("synced", false);
      },
      90s));
  EXPECT_EQ(qemu_processes("db"), 1);
  EXPECT_EQ(count_of(switch_log(), "n2 ForceOff"), 0u) << switch_log();
}

}  // namespace
}  // namespace vcube::labtest
