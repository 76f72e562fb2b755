// eSAN in a three-node lab: a disk mirrored between n2 and n3 by their
// vcube-esand (started and driven by vcubed), an HA VM whose only disk it is,
// and the faults: its node killed (the VM restarts on the other disk node
// with every acknowledged write), the node's return (only changed regions
// are resynced, then verify finds both sides equal). The tests share one lab
// and run in order.
#include <gtest/gtest.h>

#include <regex>

#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

const std::string db_ip = "10.231.78.70";
constexpr int64_t disk_mib = 64;

const std::string dl_ip = "10.231.78.71";

// A test guest named after its eSAN disk.
json guest_config(const std::string& name = "db", const std::string& node = "n2",
                  const std::string& ip = db_ip) {
  return {{"vcpus", 1},
          {"memory_mib", 256},
          {"node", node},
          {"acceleration", "auto"},
          {"disks", {{{"esan", name}, {"cache", "none"}}}},
          {"nics", {{{"network", "lan"}}}},
          {"kernel",
           {{"kernel", "vmlinux"},
            {"initrd", "initrd.img"},
            {"cmdline", "console=ttyS0 quiet panic=-1 mitigations=off vcube.hostname=" + name +
                            " vcube.ip=" + ip + "/24"}}},
          {"ha", {{"state", "stopped"}}}};
}

int64_t resume_counter(int k, const std::string& vm = "db") {
  std::string serial = node_file(k, "/run/vcube/vms/" + vm + "/serial.log");
  static const std::regex pattern("resume_counter=([0-9]+)");
  int64_t best = -1;
  for (std::sregex_iterator it(serial.begin(), serial.end(), pattern), end; it != end; ++it)
    best = std::max<int64_t>(best, std::stoll((*it)[1].str()));
  return best;
}

class EsanLab : public guest_lab_suite {
 protected:
  static void SetUpTestSuite() {
    bring_up(3);
    if (lab_ == nullptr)
      return;
    ASSERT_EQ(call(1, http::verb::put, "/api/v1/domain/network/lan",
                   json{{"value", {{"vlan", 0}, {"cidr", "10.231.78.0/24"}}}})
                  .status,
              200u);
  }
  static json disk(int k, const std::string& name = "db") {
    return call(k, http::verb::get, "/api/v1/disks/" + name).body;
  }
  static json side(int k, const std::string& node, const std::string& name = "db") {
    for (const auto& s : disk(k, name).value("sides", json::array()))
      if (s.value("node", "") == node)
        return s;
    return nullptr;
  }
  static bool is_in_sync(int k, const std::string& name = "db") {
    json d = disk(k, name);
    if (d.value("state", "") != "UpToDate/UpToDate")
      return false;
    for (const auto& s : d.value("sides", json::array()))
      if (!s.value("connected", false))
        return false;
    return true;
  }
  static json vm_status(int k, const std::string& vm = "db") {
    return call(k, http::verb::get, "/api/v1/vms/" + vm).body.value("status", json());
  }
  static bool runs_on(int k, const std::string& node, const std::string& vm = "db") {
    json s = vm_status(k, vm);
    return s.is_object() && s.value("state", "") == "running" && s.value("node", "") == node;
  }
};

TEST_F(EsanLab, ADiskIsCreatedOnItsTwoNodesInSync) {
  auto bad = call(1, http::verb::post, "/api/v1/disks",
                  json{{"name", "db"}, {"size_mib", disk_mib}, {"nodes", {"n2", "n2"}}});
  EXPECT_EQ(bad.status, 400u) << bad.body.dump();
  auto created = call(1, http::verb::post, "/api/v1/disks",
                      json{{"name", "db"}, {"size_mib", disk_mib}, {"nodes", {"n2", "n3"}}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  // A new disk is zeroes on both sides: in sync at once, nothing copied.
  EXPECT_TRUE(wait_until([] { return is_in_sync(1); }, 60s)) << disk(1).dump();
  EXPECT_EQ(side(1, "n2").value("role", ""), "secondary") << disk(1).dump();
  EXPECT_EQ(side(1, "n3").value("resynced_bytes", -1), 0) << disk(1).dump();
  EXPECT_EQ(disk(2).value("port", 0), 7789);
  // The CLI shows it too.
  auto listed = node_cli(1, {"disk", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.error;
  EXPECT_EQ(listed.body[0].value("name", ""), "db") << listed.body.dump();
}

TEST_F(EsanLab, AnHaVmRunsOnItsEsanDisk) {
  auto no_disk = guest_config("nope");
  auto refused =
      call(1, http::verb::put, "/api/v1/vms/db", json{{"config", no_disk}, {"base_version", 0}});
  EXPECT_EQ(refused.status, 400u) << refused.body.dump();
  auto created = call(1, http::verb::put, "/api/v1/vms/db",
                      json{{"config", guest_config()}, {"base_version", 0}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  auto started = call(1, http::verb::post, "/api/v1/vms/db/start");
  ASSERT_EQ(started.status, 200u) << started.body.dump();
  json got;
  ASSERT_TRUE(wait_until(
      [&] {
        got = guest_http(db_ip);
        return got.is_object() && got.value("counter", 0) > 20 && got.value("disk", false);
      },
      120s))
      << node_file(2, "/run/vcube/vms/db/serial.log");
  EXPECT_TRUE(wait_until(
      [] {
        json s = side(1, "n2");
        return s.value("role", "") == "primary" && s.value("nbd_clients", 0) == 1;
      },
      30s))
      << disk(1).dump();
  EXPECT_TRUE(is_in_sync(1)) << disk(1).dump();
  // In use: the disk cannot be deleted.
  EXPECT_EQ(call(1, http::verb::delete_, "/api/v1/disks/db").status, 409u);
}

// vcube-esand dies under a writing guest (SIGKILL): vcubed starts it again,
// it restores its volumes from --state, QEMU reconnects within its reconnect
// delay, and the guest's writes go on without a single I/O error.
TEST_F(EsanLab, AnEsandCrashHoldsTheGuestsIoInsteadOfFailingIt) {
  json before = guest_http(db_ip);
  ASSERT_TRUE(before.is_object());
  ASSERT_EQ(run_vcube({"lab", "exec", "2", "--", "pkill", "-KILL", "-x", "vcube-esand"}), 0);
  json after;
  ASSERT_TRUE(
      wait_for_guest(db_ip, "counter", before.value("counter", int64_t(0)) + 100, 90s, after))
      << node_file(2, "/run/vcube/vms/db/serial.log");
  EXPECT_EQ(after.value("boot", 0), before.value("boot", 0));  // no reboot
  EXPECT_EQ(node_file(2, "/run/vcube/vms/db/serial.log").find("disk-error"), std::string::npos)
      << node_file(2, "/run/vcube/vms/db/serial.log");
  EXPECT_TRUE(wait_until([] { return is_in_sync(1); }, 60s)) << disk(1).dump();
  EXPECT_EQ(side(1, "n2").value("role", ""), "primary") << disk(1).dump();
}

// The product's promise for storage: the node dies mid-writes, the VM starts
// on the other disk node, and every write the guest saw acknowledged is there.
TEST_F(EsanLab, KilledDiskNodeVmRestartsOnThePeerWithEveryAcknowledgedWrite) {
  json before = guest_http(db_ip);
  ASSERT_TRUE(before.is_object());
  int64_t acknowledged = before.value("counter", int64_t(0));
  ASSERT_EQ(run_vcube({"lab", "kill", "2"}), 0);
  // n1 has more room and the lowest id, but only n3 holds the disk.
  ASSERT_TRUE(wait_until([] { return runs_on(1, "n3"); }, 120s))
      << call(1, http::verb::get, "/api/v1/ha").body.dump();
  json after;
  ASSERT_TRUE(wait_for_guest(db_ip, "boot", before.value("boot", int64_t(0)), 120s, after))
      << node_file(3, "/run/vcube/vms/db/serial.log");
  EXPECT_GE(resume_counter(3), acknowledged) << node_file(3, "/run/vcube/vms/db/serial.log");
  EXPECT_EQ(qemu_processes("db"), 1);
  EXPECT_EQ(side(1, "n3").value("role", ""), "primary") << disk(1).dump();
}

TEST_F(EsanLab, TheReturningNodeReceivesOnlyWhatChanged) {
  ASSERT_EQ(run_vcube({"lab", "start", "2"}), 0);
  ASSERT_TRUE(wait_until([] { return is_in_sync(1); }, 180s)) << disk(1).dump();
  EXPECT_EQ(side(1, "n2").value("role", ""), "secondary") << disk(1).dump();
  // The guest writes 8 blocks in a ring and a journal: a few 64 KiB regions,
  // not the whole 64 MiB disk.
  int64_t copied = side(1, "n3").value("resynced_bytes", int64_t(-1));
  EXPECT_GT(copied, 0) << disk(1).dump();
  EXPECT_LT(copied, (disk_mib << 20) / 4) << disk(1).dump();
  EXPECT_TRUE(runs_on(2, "n3"));
  EXPECT_EQ(qemu_processes("db"), 1);
  // Both sides hold the same data, compared online while the guest writes.
  auto verified = node_cli(2, {"disk", "verify", "db"});
  EXPECT_EQ(verified.exit_code, 0) << verified.error << verified.body.dump();
  EXPECT_EQ(verified.body.value("differing_regions", -1), 0) << verified.body.dump();
}

// Grown while its VM runs: both nodes grow their copy and reconnect without a
// sync; the running guest keeps its size until its next start.
TEST_F(EsanLab, ADiskGrowsOnBothNodes) {
  auto shrink = call(1, http::verb::post, "/api/v1/disks/db/resize", json{{"size_mib", 32}});
  EXPECT_EQ(shrink.status, 400u) << shrink.body.dump();
  auto grown = node_cli(2, {"disk", "resize", "db", "--size", "96M"});
  ASSERT_EQ(grown.exit_code, 0) << grown.error;
  ASSERT_TRUE(wait_until(
      [] {
        json d = disk(1);
        for (const auto& s : d.value("sides", json::array()))
          if (s.value("size_bytes", int64_t(0)) != int64_t(96) << 20)
            return false;
        return is_in_sync(1);
      },
      60s))
      << disk(1).dump();
  EXPECT_EQ(qemu_processes("db"), 1);
  EXPECT_TRUE(guest_http(db_ip).is_object());
}

// Fencing (docs/esan.md): primary n3 is cut off from the cluster under a
// writing guest. Without quorum it cannot mark n2 outdated, so it
// acknowledges no write n2 lacks: it holds them until n1 and n2 fence it
// (the fence device fails at first, so n3 stays cut off well past the 5 s
// in which its esand declares the peer lost). The VM restarts on n2 and
// finds every counter the guest on n3 reported acknowledged; n2, primary
// without its peer, marks n3's copy outdated; n3 returns, resyncs (no split
// brain: its held writes were never acknowledged) and the mark is cleared.
TEST_F(EsanLab, AnIsolatedPrimaryAcknowledgesNothingItsPeerLacks) {
  ASSERT_TRUE(runs_on(1, "n3")) << vm_status(1).dump();
  json before = guest_http(db_ip);
  ASSERT_TRUE(before.is_object());
  json device = call(1, http::verb::get, "/api/v1/fence/devices/lab-switch").body;
  for (const char* field : {"name", "version", "status"})
    device.erase(field);
  json broken = device;
  broken["options"]["password"] = "wrong-password";
  ASSERT_EQ(
      call(1, http::verb::put, "/api/v1/fence/devices/lab-switch", json{{"config", broken}}).status,
      200u);
  size_t offs_before = count_of(switch_log(), "n3 ForceOff 204");
  ASSERT_EQ(run_vcube({"lab", "partition", "3"}), 0);
  // While n3 is cut off: the highest counter its guest printed as acknowledged.
  static const std::regex heartbeat("vcube-heartbeat seq=[0-9]+ uptime=[0-9.]+ counter=([0-9]+)");
  int64_t seen = -1;
  std::string serial;
  auto watch_n3 = [&] {
    std::string now = node_file(3, "/run/vcube/vms/db/serial.log");
    if (!now.empty())
      serial = now;
    for (std::sregex_iterator it(now.begin(), now.end(), heartbeat), end; it != end; ++it)
      seen = std::max<int64_t>(seen, std::stoll((*it)[1].str()));
  };
  ASSERT_TRUE(wait_until(
      [&] {
        watch_n3();
        for (const auto& f :
             call(1, http::verb::get, "/api/v1/ha").body.value("fences", json::array()))
          if (f.value("node", "") == "n3" && f.value("attempts", 0) >= 3)
            return true;
        return false;
      },
      120s))
      << call(1, http::verb::get, "/api/v1/ha").body.dump();
  ASSERT_EQ(
      call(1, http::verb::put, "/api/v1/fence/devices/lab-switch", json{{"config", device}}).status,
      200u);
  ASSERT_TRUE(wait_until(
      [&] {
        watch_n3();
        return count_of(switch_log(), "n3 ForceOff 204") > offs_before;
      },
      120s))
      << switch_log();
  ASSERT_GT(seen, 0) << serial;  // a heartbeat (once a second) lags the counter
  ASSERT_TRUE(wait_until([] { return runs_on(1, "n2"); }, 120s))
      << call(1, http::verb::get, "/api/v1/ha").body.dump();
  json after;
  ASSERT_TRUE(wait_for_guest(db_ip, "boot", before.value("boot", int64_t(0)), 120s, after))
      << node_file(2, "/run/vcube/vms/db/serial.log");
  EXPECT_GE(resume_counter(2), seen) << node_file(2, "/run/vcube/vms/db/serial.log") << "\n---n3\n"
                                     << serial;
  EXPECT_TRUE(wait_until([] { return disk(1).value("outdated", "") == "n3"; }, 30s))
      << disk(1).dump();
  EXPECT_NE(disk(1).value("state", "").find("Outdated"), std::string::npos) << disk(1).dump();
  // The override is for a lost up-to-date node; n2 is up.
  auto clear = call(1, http::verb::post, "/api/v1/disks/db/clear-outdated", json::object());
  EXPECT_EQ(clear.status, 409u) << clear.body.dump();

  ASSERT_EQ(run_vcube({"lab", "heal", "3"}), 0);
  ASSERT_EQ(run_vcube({"lab", "start", "3"}), 0);
  ASSERT_TRUE(wait_until([] { return is_in_sync(1); }, 180s)) << disk(1).dump();
  EXPECT_TRUE(wait_until([] { return !disk(1).contains("outdated"); }, 30s)) << disk(1).dump();
  EXPECT_EQ(side(1, "n3").value("role", ""), "secondary") << disk(1).dump();
  EXPECT_EQ(qemu_processes("db"), 1);
  auto verified = node_cli(1, {"disk", "verify", "db"});
  EXPECT_EQ(verified.exit_code, 0) << verified.error << verified.body.dump();
  EXPECT_EQ(verified.body.value("differing_regions", -1), 0) << verified.body.dump();
}

// A disk made from an existing image: the first node's copy is the image, the
// second receives all of it in an initial full sync; deleting the disk
// removes both copies.
TEST_F(EsanLab, AnImportedDiskIsSyncedInFullThenDeletedOnBothNodes) {
  auto created = call(1, http::verb::post, "/api/v1/disks",
                      json{{"name", "imp"},
                           {"size_mib", disk_mib},
                           {"nodes", {"n1", "n3"}},
                           {"import", {{"image", "vmlinux"}, {"format", "raw"}}}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  auto imported = [](int k) { return call(k, http::verb::get, "/api/v1/disks/imp").body; };
  ASSERT_TRUE(wait_until(
      [&] {
        json d = imported(2);
        return d.value("state", "") == "UpToDate/UpToDate" &&
               d["sides"][0].value("connected", false) && d["sides"][1].value("connected", false);
      },
      120s))
      << imported(2).dump();
  // Everything went over, zeroes included: the second copy had nothing.
  EXPECT_EQ(imported(1)["sides"][0].value("resynced_bytes", int64_t(0)), disk_mib << 20)
      << imported(1).dump();
  std::string image_sum, copy_sum;
  std::string image = "/var/lib/vcube-lab/images/vmlinux";
  ASSERT_EQ(
      run_vcube({"lab", "exec", "3", "--", "sh", "-c",
                 "head -c $(stat -c %s " + image + ") /var/lib/vcube/esan/imp.img | sha256sum"},
                &copy_sum),
      0);
  ASSERT_EQ(run_vcube({"lab", "exec", "1", "--", "sh", "-c", "sha256sum < " + image}, &image_sum),
            0);
  EXPECT_EQ(copy_sum, image_sum);
  auto verified = node_cli(3, {"disk", "verify", "imp"});
  EXPECT_EQ(verified.exit_code, 0) << verified.error << verified.body.dump();

  ASSERT_EQ(call(1, http::verb::delete_, "/api/v1/disks/imp").status, 200u);
  for (int k : {1, 3})
    EXPECT_TRUE(wait_until(
        [&] {
          return run_vcube({"lab", "exec", std::to_string(k), "--", "test", "!", "-e",
                            "/var/lib/vcube/esan/imp.meta"}) == 0;
        },
        30s))
        << "n" << k << " still has the deleted disk's files";
}

// Diskless attach: a VM on n1, which holds no copy of its disk (on n2 and
// n3). n1's esand serves it to QEMU from the disk's primary over
// authenticated TCP NBD.
TEST_F(EsanLab, AVmRunsDisklessOnANodeWithoutACopy) {
  auto created = call(1, http::verb::post, "/api/v1/disks",
                      json{{"name", "dl"}, {"size_mib", disk_mib}, {"nodes", {"n2", "n3"}}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  ASSERT_TRUE(wait_until([] { return is_in_sync(1, "dl"); }, 60s)) << disk(1, "dl").dump();
  auto defined = call(1, http::verb::put, "/api/v1/vms/dl",
                      json{{"config", guest_config("dl", "n1", dl_ip)}, {"base_version", 0}});
  ASSERT_EQ(defined.status, 200u) << defined.body.dump();
  ASSERT_EQ(call(1, http::verb::post, "/api/v1/vms/dl/start").status, 200u);
  json got;
  ASSERT_TRUE(wait_until(
      [&] {
        got = guest_http(dl_ip);
        return got.is_object() && got.value("counter", 0) > 20 && got.value("disk", false);
      },
      120s))
      << node_file(1, "/run/vcube/vms/dl/serial.log") << node_file(1, "/var/log/vcube/esand.log")
      << call(1, http::verb::get, "/api/v1/ha").body.dump()
      << "\nQEMU processes of dl: " << qemu_processes("dl") << "\n"
      << node_file(1, "/var/log/vcube/vcubed.log");
  EXPECT_TRUE(runs_on(1, "n1", "dl"));
  // The first disk node serves it; n1's esand is its NBD client.
  EXPECT_TRUE(wait_until(
      [] {
        json s = side(1, "n2", "dl");
        return s.value("role", "") == "primary" && s.value("nbd_clients", 0) >= 1;
      },
      30s))
      << disk(1, "dl").dump();
  EXPECT_EQ(side(1, "n3", "dl").value("role", ""), "secondary") << disk(1, "dl").dump();
  EXPECT_TRUE(is_in_sync(1, "dl")) << disk(1, "dl").dump();
}

// The NBD port on the cluster network serves only clients that prove the
// cluster's key: a plain NBD client gets nothing.
TEST_F(EsanLab, TheNbdPortRefusesClientsWithoutTheClusterKey) {
  json addresses = call(1, http::verb::get, "/api/v1/domain/node/n2")
                       .body.value("value", json::object())
                       .value("addresses", json::array());
  ASSERT_FALSE(addresses.empty());
  std::string address = addresses[0].get<std::string>();
  std::string out;
  EXPECT_NE(run_vcube({"lab", "exec", "1", "--", "timeout", "20", "nbdinfo",
                       "nbd://" + address + ":10809/dl"},
                      &out),
            0)
      << out;
  EXPECT_EQ(out.find("export-size"), std::string::npos) << out;
}

// The serving node dies under the writing guest: it is fenced, the other disk
// node becomes primary, n1's esand moves over to it, and the guest goes on
// without a reboot or an I/O error. A reset then boots from the new primary's
// copy and finds every write the guest saw acknowledged.
TEST_F(EsanLab, KillingTheServingNodeMovesTheDiskNotTheVm) {
  json before = guest_http(dl_ip);
  ASSERT_TRUE(before.is_object());
  size_t offs_before = count_of(switch_log(), "n2 ForceOff 204");
  ASSERT_EQ(run_vcube({"lab", "kill", "2"}), 0);
  EXPECT_TRUE(wait_until(
      [] {
        json s = side(1, "n3", "dl");
        return s.value("role", "") == "primary" && s.value("nbd_clients", 0) >= 1;
      },
      120s))
      << disk(1, "dl").dump() << call(1, http::verb::get, "/api/v1/ha").body.dump();
  json after;
  ASSERT_TRUE(
      wait_for_guest(dl_ip, "counter", before.value("counter", int64_t(0)) + 100, 120s, after))
      << node_file(1, "/run/vcube/vms/dl/serial.log") << node_file(1, "/var/log/vcube/esand.log");
  EXPECT_EQ(after.value("boot", 0), before.value("boot", 0));  // no reboot
  EXPECT_TRUE(runs_on(1, "n1", "dl"));
  EXPECT_EQ(node_file(1, "/run/vcube/vms/dl/serial.log").find("disk-error"), std::string::npos)
      << node_file(1, "/run/vcube/vms/dl/serial.log");
  EXPECT_GT(count_of(switch_log(), "n2 ForceOff 204"), offs_before) << switch_log();  // fenced

  int64_t acknowledged = guest_http(dl_ip).value("counter", int64_t(0));
  ASSERT_GT(acknowledged, 0);
  ASSERT_EQ(call(1, http::verb::post, "/api/v1/vms/dl/reset").status, 200u);
  ASSERT_TRUE(wait_for_guest(dl_ip, "boot", before.value("boot", int64_t(0)), 120s, after))
      << node_file(1, "/run/vcube/vms/dl/serial.log");
  EXPECT_GE(resume_counter(1, "dl"), acknowledged) << node_file(1, "/run/vcube/vms/dl/serial.log");
}

TEST_F(EsanLab, TheOldServerReturnsAsSecondary) {
  ASSERT_EQ(run_vcube({"lab", "start", "2"}), 0);
  ASSERT_TRUE(wait_until([] { return is_in_sync(1, "dl"); }, 180s)) << disk(1, "dl").dump();
  EXPECT_EQ(side(1, "n2", "dl").value("role", ""), "secondary") << disk(1, "dl").dump();
  EXPECT_EQ(side(1, "n3", "dl").value("role", ""), "primary") << disk(1, "dl").dump();
  EXPECT_TRUE(runs_on(2, "n1", "dl"));
  EXPECT_EQ(qemu_processes("dl"), 1);
}

}  // namespace
}  // namespace vcube::labtest
