// HA in a two-node lab (corosync two_node): when the interconnect is cut,
// both sides keep quorum and the fence is the tie-breaker. The side that runs
// no VM waits (fence race delay), so the switch, which serves one request at
// a time, powers off exactly one node, and the VM runs exactly once. With an
// eSAN disk, writes without the peer wait for that fence.
#include <gtest/gtest.h>

#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

const std::string guest_ip = "10.231.78.62";

// Each test gets a fresh two-node lab with the test guest and network lan.
class HaTwoNodeLab : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = guest_skip_reason(); !why.empty())
      GTEST_SKIP() << why;
    std::string why;
    lab_ = lab_cluster::up(2, why);
    ASSERT_NE(lab_, nullptr) << why;
    ASSERT_EQ(install_test_guest(), "");
    ASSERT_EQ(call(1, http::verb::put, "/api/v1/domain/network/lan",
                   json{{"value", {{"vlan", 0}, {"cidr", "10.231.78.0/24"}}}})
                  .status,
              200u);
  }
  answer call(int k, http::verb verb, const std::string& target, std::optional<json> body = {}) {
    return lab_->node(k).call(verb, target, std::move(body));
  }

  std::unique_ptr<lab_cluster> lab_;
};

TEST_F(HaTwoNodeLab, PartitionPowersOffExactlyOneNodeAndTheVmRunsOnce) {
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

// eSAN fencing in a two-node cluster (docs/esan.md, "Fencing"): both sides
// of a split are quorate, so the domain's outdated mark alone proves
// nothing. A VM, not HA, runs on n1 on a disk mirrored to n2; n2 loses
// power. n1 holds the guest's writes until its HA manager has fenced n2 (a
// lost peer holding a copy of a disk a VM here runs on), then they go on
// and n2's copy is marked outdated; n2 returns, resyncs, and the mark goes.
TEST_F(HaTwoNodeLab, ALostDiskPeerIsFencedBeforeTheWritesGoOn) {
  auto disk = [&] { return call(1, http::verb::get, "/api/v1/disks/dd").body; };
  auto is_in_sync = [&] {
    json d = disk();
    bool is_connected = d.value("state", "") == "UpToDate/UpToDate";
    for (const auto& side : d.value("sides", json::array()))
      is_connected = is_connected && side.value("connected", false);
    return is_connected;
  };
  auto created = call(1, http::verb::post, "/api/v1/disks",
                      json{{"name", "dd"}, {"size_mib", 64}, {"nodes", {"n1", "n2"}}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  ASSERT_TRUE(wait_until(is_in_sync, 60s)) << disk().dump();
  const std::string ip = "10.231.78.63";
  json config = {{"vcpus", 1},
                 {"memory_mib", 256},
                 {"node", "n1"},
                 {"acceleration", "auto"},
                 {"disks", {{{"esan", "dd"}, {"cache", "none"}}}},
                 {"nics", {{{"network", "lan"}}}},
                 {"kernel",
                  {{"kernel", "vmlinux"},
                   {"initrd", "initrd.img"},
                   {"cmdline",
                    "console=ttyS0 quiet panic=-1 mitigations=off vcube.hostname=dv "
                    "vcube.ip=" +
                        ip + "/24"}}}};
  ASSERT_EQ(call(1, http::verb::put, "/api/v1/vms/dv", json{{"config", config}}).status, 200u);
  auto started = call(1, http::verb::post, "/api/v1/vms/dv/start");
  ASSERT_EQ(started.status, 200u) << started.body.dump();
  ASSERT_TRUE(wait_until(
      [&] {
        json g = guest_http(ip);
        return g.is_object() && g.value("counter", 0) > 20;
      },
      120s));

  size_t offs_before = count_of(switch_log(), "n2 ForceOff 204");
  ASSERT_EQ(run_vcube({"lab", "kill", "2"}), 0);
  ASSERT_TRUE(
      wait_until([&] { return count_of(switch_log(), "n2 ForceOff 204") > offs_before; }, 120s))
      << switch_log() << call(1, http::verb::get, "/api/v1/ha").body.dump();
  json before = guest_http(ip);
  ASSERT_TRUE(before.is_object());
  json after;
  EXPECT_TRUE(wait_for_guest(ip, "counter", before.value("counter", int64_t(0)) + 50, 120s, after))
      << after.dump() << disk().dump();
  EXPECT_EQ(after.value("boot", 0), before.value("boot", 0));  // held, not failed
  EXPECT_EQ(disk().value("outdated", ""), "n2") << disk().dump();

  ASSERT_EQ(run_vcube({"lab", "start", "2"}), 0);
  EXPECT_TRUE(wait_until(is_in_sync, 180s)) << disk().dump();
  EXPECT_TRUE(wait_until([&] { return !disk().contains("outdated"); }, 30s)) << disk().dump();
  EXPECT_EQ(qemu_processes("dv"), 1);
}

}  // namespace
}  // namespace vcube::labtest
