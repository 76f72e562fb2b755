// HA in a three-node lab: real corosync (token 1000 ms), real vcubed, real
// QEMU (TCG) running the test guest from the shared image directory, and the
// lab's power switch driven by the real fence_redfish agent. The tests share
// one lab and run in order: each leaves the cluster as the next expects it.
#include <gtest/gtest.h>

#include <regex>

#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

const std::string web_ip = "10.231.78.60";
const std::string flaky_ip = "10.231.78.61";

json guest_config(const std::string& name, const std::string& ip, const std::string& node,
                  const std::string& extra_cmdline = "") {
  return {{"vcpus", 1},
          {"memory_mib", 256},
          {"node", node},
          {"acceleration", "auto"},
          {"disks", {{{"image", name + "/disk0.raw"}, {"size_mib", 16}, {"cache", "none"}}}},
          {"nics", {{{"network", "lan"}}}},
          {"kernel",
           {{"kernel", "vmlinux"},
            {"initrd", "initrd.img"},
            {"cmdline", "console=ttyS0 quiet panic=-1 mitigations=off vcube.hostname=" + name +
                            " vcube.ip=" + ip + "/24" + extra_cmdline}}},
          {"ha", {{"state", "stopped"}}}};
}

int node_number(const std::string& name) {
  return name.size() == 2 && name[0] == 'n' ? name[1] - '0' : 0;
}

// The highest resume_counter the guest's probe printed on `k`'s serial log.
int64_t resume_counter(int k, const std::string& vm) {
  std::string serial = node_file(k, "/run/vcube/vms/" + vm + "/serial.log");
  static const std::regex pattern("resume_counter=([0-9]+)");
  int64_t best = -1;
  for (std::sregex_iterator it(serial.begin(), serial.end(), pattern), end; it != end; ++it)
    best = std::max<int64_t>(best, std::stoll((*it)[1].str()));
  return best;
}

class HaLab : public guest_lab_suite {
 protected:
  static void SetUpTestSuite() {
    bring_up(3);
    if (lab_ == nullptr)
      return;  // skipped, or bring_up said why
    ASSERT_EQ(call(1, http::verb::put, "/api/v1/domain/network/lan",
                   json{{"value", {{"vlan", 0}, {"cidr", "10.231.78.0/24"}}}})
                  .status,
              200u);
  }
  static json ha_status(int k) { return call(k, http::verb::get, "/api/v1/ha").body; }
  static json ha_vm(int k, const std::string& vm) {
    for (const auto& item : ha_status(k).value("vms", json::array()))
      if (item.value("name", "") == vm)
        return item;
    return nullptr;
  }
  // The VM's reported status ({"node", "state", ...}) as node k sees it.
  static json vm_status(int k, const std::string& vm) {
    return call(k, http::verb::get, "/api/v1/vms/" + vm).body.value("status", json());
  }
  static bool runs_on(int k, const std::string& vm, const std::string& node) {
    json s = vm_status(k, vm);
    return s.is_object() && s.value("state", "") == "running" && s.value("node", "") == node;
  }
  static bool device_ok(int k) {
    for (const auto& d : ha_status(k).value("devices", json::array()))
      if (d.value("name", "") == "lab-switch")
        return d.value("ok", json()) == json(true);
    return false;
  }
};

TEST_F(HaLab, LabUpMakesTheSwitchEveryNodesFenceDevice) {
  auto devices = call(2, http::verb::get, "/api/v1/fence/devices");
  ASSERT_EQ(devices.status, 200u) << devices.body.dump();
  ASSERT_EQ(devices.body["items"].size(), 1u) << devices.body.dump();
  const json& device = devices.body["items"][0];
  EXPECT_EQ(device.value("name", ""), "lab-switch");
  EXPECT_EQ(device.value("agent", ""), "fence_redfish");
  EXPECT_EQ(device["nodes"].size(), 3u) << device.dump();
  EXPECT_EQ(device["nodes"]["n3"].value("systems_uri", ""), "/redfish/v1/Systems/n3");
  // The manager's first monitor run reaches the switch through fence_redfish.
  EXPECT_TRUE(wait_until([] { return device_ok(3); }, 90s)) << ha_status(3).dump();
  EXPECT_EQ(ha_status(2).value("manager", ""), "n1");
  for (int k = 1; k <= 3; ++k) {
    auto node = call(1, http::verb::get, "/api/v1/domain/node/n" + std::to_string(k)).body;
    EXPECT_EQ(node["value"].value("mode", ""), "online") << node.dump();
  }
}

TEST_F(HaLab, HaVmStartsOnItsNode) {
  auto created = call(1, http::verb::put, "/api/v1/vms/web",
                      json{{"config", guest_config("web", web_ip, "n2")}, {"base_version", 0}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  auto started = call(3, http::verb::post, "/api/v1/vms/web/start");
  ASSERT_EQ(started.status, 200u) << started.body.dump();
  EXPECT_EQ(started.body.value("node", ""), "n2") << started.body.dump();
  json got;
  ASSERT_TRUE(wait_until(
      [&] {
        got = guest_http(web_ip);
        return got.is_object() && got.value("counter", 0) > 0;
      },
      90s))
      << node_file(2, "/run/vcube/vms/web/serial.log");
  json item = ha_vm(1, "web");
  EXPECT_EQ(item.value("state", ""), "started") << item.dump();
  EXPECT_EQ(item.value("node", ""), "n2") << item.dump();
  EXPECT_EQ(item.value("ha", ""), "yes");
  EXPECT_EQ(qemu_processes("web"), 1);
}

// The product's promise: the node dies, the switch powers it off, and only
// then the VM starts elsewhere, with every acknowledged write on its disk.
TEST_F(HaLab, KilledNodeIsFencedThenItsVmRunsElsewhere) {
  size_t offs_before = count_of(switch_log(), "n2 ForceOff 204");
  // A counter the guest acknowledged (written O_DSYNC) just before its node dies.
  json before = guest_http(web_ip);
  ASSERT_TRUE(before.is_object());
  int64_t acknowledged = before.value("counter", int64_t(0));
  ASSERT_EQ(run_vcube({"lab", "kill", "2"}), 0);

  EXPECT_TRUE(
      wait_until([&] { return count_of(switch_log(), "n2 ForceOff 204") > offs_before; }, 60s))
      << switch_log();
  std::string new_node;
  ASSERT_TRUE(wait_until(
      [&] {
        json s = vm_status(1, "web");
        if (!s.is_object() || s.value("state", "") != "running" || s.value("node", "") == "n2")
          return false;
        new_node = s.value("node", "");
        return true;
      },
      90s))
      << ha_status(1).dump();
  json after;
  ASSERT_TRUE(wait_for_guest(web_ip, "boot", before.value("boot", int64_t(0)), 90s, after))
      << node_file(node_number(new_node), "/run/vcube/vms/web/serial.log");
  EXPECT_EQ(after.value("hostname", ""), "web");
  EXPECT_GE(resume_counter(node_number(new_node), "web"), acknowledged)
      << node_file(node_number(new_node), "/run/vcube/vms/web/serial.log");
  EXPECT_EQ(qemu_processes("web"), 1);

  auto history = call(1, http::verb::get, "/api/v1/fence/history?node=n2").body;
  ASSERT_FALSE(history["items"].empty()) << history.dump();
  EXPECT_TRUE(history["items"][0].value("ok", false)) << history.dump();
  EXPECT_EQ(ha_vm(3, "web").value("node", ""), new_node);

  // n2 comes back: it joins again and the VM stays where it runs now.
  ASSERT_EQ(run_vcube({"lab", "start", "2"}), 0);
  EXPECT_TRUE(wait_until(
      [] {
        auto s = call(2, http::verb::get, "/api/v1/cluster/status").body;
        return s.is_object() && s["members"].size() == 3 && s.value("synced", false);
      },
      90s));
  EXPECT_TRUE(runs_on(2, "web", new_node)) << vm_status(2, "web").dump();
  EXPECT_EQ(qemu_processes("web"), 1);
}

TEST_F(HaLab, StandbyMovesTheVmAwayAndPreferenceBringsItBack) {
  // n3 preferred: the VM goes (or stays) there.
  const std::string home = "n3";
  auto preferred = call(1, http::verb::post, "/api/v1/vms/web/preference", json{{"node", home}});
  ASSERT_EQ(preferred.status, 200u) << preferred.body.dump();
  ASSERT_TRUE(wait_until([&] { return runs_on(1, "web", home); }, 120s)) << ha_status(1).dump();

  auto standby = node_cli(1, {"node", "set-standby", home});
  ASSERT_EQ(standby.exit_code, 0) << standby.error;
  std::string away;
  ASSERT_TRUE(wait_until(
      [&] {
        json s = vm_status(1, "web");
        away = s.value("node", "");
        return s.value("state", "") == "running" && away != home;
      },
      120s))
      << ha_status(1).dump();
  EXPECT_TRUE(wait_until([] { return guest_http(web_ip).is_object(); }, 90s));
  EXPECT_EQ(qemu_processes("web"), 1);

  auto online = node_cli(1, {"node", "set-online", home});
  ASSERT_EQ(online.exit_code, 0) << online.error;
  EXPECT_TRUE(wait_until([&] { return runs_on(1, "web", home); }, 120s)) << ha_status(1).dump();
  EXPECT_TRUE(wait_until([] { return guest_http(web_ip).is_object(); }, 90s));
  EXPECT_EQ(qemu_processes("web"), 1);
}

TEST_F(HaLab, GuestPowerOffIsRestarted) {
  auto created =
      call(1, http::verb::put, "/api/v1/vms/flaky",
           json{{"config", guest_config("flaky", flaky_ip, "n3", " vcube.poweroff_after=20")},
                {"base_version", 0}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  ASSERT_EQ(call(1, http::verb::post, "/api/v1/vms/flaky/start").status, 200u);
  // The guest powers itself off 20 s after boot; HA starts it again (boot 2).
  json got;
  EXPECT_TRUE(wait_until(
      [&] {
        got = guest_http(flaky_ip);
        return got.is_object() && got.value("boot", 0) >= 2;
      },
      180s))
      << ha_status(1).dump();
  EXPECT_GE(ha_vm(1, "flaky").value("restarts", 0), 1) << ha_status(1).dump();
  // Stopped by the administrator: not restarted.
  // (409 if it happens to be between a power-off and its restart.)
  auto stopped = call(1, http::verb::post, "/api/v1/vms/flaky/poweroff");
  EXPECT_TRUE(stopped.status == 200u || stopped.status == 409u) << stopped.body.dump();
  EXPECT_TRUE(wait_until([] { return qemu_processes("flaky") == 0; }, 60s));
  EXPECT_EQ(ha_vm(1, "flaky").value("target", ""), "stopped");
}

// A fence that fails keeps the VM down: better down than running twice.
TEST_F(HaLab, BrokenFenceDeviceKeepsTheVmDownAndSaysWhy) {
  auto device = call(1, http::verb::get, "/api/v1/fence/devices/lab-switch").body;
  json config = device;
  for (const char* field : {"name", "version", "status"})
    config.erase(field);
  config["options"]["password"] = "wrong-password";
  auto put = call(1, http::verb::put, "/api/v1/fence/devices/lab-switch", json{{"config", config}});
  ASSERT_EQ(put.status, 200u) << put.body.dump();
  // The monitor notices (401 from the switch) and raises an alert.
  ASSERT_TRUE(wait_until(
      [] {
        for (const auto& d : ha_status(1).value("devices", json::array()))
          if (d.value("ok", json()) == json(false))
            return true;
        return false;
      },
      120s))
      << ha_status(1).dump();
  // No HA VM starts where a failed node could not be fenced.
  auto refused = call(2, http::verb::post, "/api/v1/vms/flaky/start");
  EXPECT_EQ(refused.status, 409u) << refused.body.dump();
  EXPECT_NE(refused.body.dump().find("no working fence device"), std::string::npos)
      << refused.body.dump();
  // The previous test left the VM on n3 (preferred); n1 is the manager.
  const std::string home = "n3";
  ASSERT_TRUE(runs_on(1, "web", home)) << ha_status(1).dump();
  int k = node_number(home);
  size_t offs_before = count_of(switch_log(), home + " ForceOff 204");
  ASSERT_EQ(run_vcube({"lab", "kill", std::to_string(k)}), 0);
  // Fencing fails (401): the VM stays down and the status says why.
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& f : ha_status(1).value("fences", json::array()))
          if (f.value("node", "") == home && f.value("state", "") == "failed")
            return true;
        return false;
      },
      120s))
      << ha_status(1).dump();
  EXPECT_EQ(count_of(switch_log(), home + " ForceOff 204"), offs_before) << switch_log();
  EXPECT_EQ(qemu_processes("web"), 0);
  EXPECT_NE(ha_vm(1, "web").value("state", ""), "started") << ha_status(1).dump();
  auto alerts = call(1, http::verb::get, "/api/v1/alerts").body;
  bool has_fence_alert = false;
  for (const auto& a : alerts["items"])
    has_fence_alert = has_fence_alert || a.value("subject", "").find("fence") != std::string::npos;
  EXPECT_TRUE(has_fence_alert) << alerts.dump();

  // Repaired: the next attempt powers the node off and the VM comes back.
  config["options"]["password"] = lab_->switch_password();
  put = call(1, http::verb::put, "/api/v1/fence/devices/lab-switch", json{{"config", config}});
  ASSERT_EQ(put.status, 200u) << put.body.dump();
  EXPECT_TRUE(
      wait_until([&] { return count_of(switch_log(), home + " ForceOff 204") > offs_before; }, 90s))
      << switch_log();
  EXPECT_TRUE(wait_until(
      [&] {
        json s = vm_status(1, "web");
        return s.value("state", "") == "running" && s.value("node", "") != home;
      },
      120s))
      << ha_status(1).dump();
  EXPECT_EQ(qemu_processes("web"), 1);
}

}  // namespace
}  // namespace vcube::labtest
