// VMs in a two-node lab: real corosync, real vcubed, real QEMU (TCG) booting
// the test guest on the lab's shared VM segment. The tests share one lab and
// one VM and run in order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/websocket_client.h"
#include "env/process.h"
#include "lab/names.h"
#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

const std::string guest_ip = "10.231.78.50";

// Every node's /var/lib/vcube/images (the lab shares one directory).
const std::string images_dir = lab::shared_images_dir;

json vm_config(const std::string& node, const std::string& extra_cmdline = "") {
  return {{"vcpus", 1},
          {"memory_mib", 256},
          {"node", node},
          {"acceleration", "auto"},
          {"disks", {{{"image", "web/disk0.raw"}, {"size_mib", 16}, {"cache", "none"}}}},
          {"nics", {{{"network", "lan"}}}},
          {"cdrom", ""},
          {"kernel",
           {{"kernel", "vmlinux"},
            {"initrd", "initrd.img"},
            {"cmdline",
             "console=ttyS0 quiet panic=-1 mitigations=off vcube.hostname=web "
             "vcube.ip=" +
                 guest_ip + "/24" + extra_cmdline}}}};
}

// Reads exactly n bytes of the RFB stream from WebSocket messages.
struct rfb_reader {
  api::websocket_client& c;
  std::string pending;
  awaitable<std::string> take(size_t n) {
    while (pending.size() < n) {
      boost::beast::flat_buffer buffer;
      co_await c.ws.async_read(buffer, use_awaitable);
      pending += boost::beast::buffers_to_string(buffer.data());
    }
    std::string out = pending.substr(0, n);
    pending.erase(0, n);
    co_return out;
  }
};

// Through the console WebSocket of `url`: RFB 3.8 version, security None,
// ClientInit; returns "WIDTHxHEIGHT" from ServerInit, or the error.
awaitable<std::string> rfb_handshake(std::string url, api::websocket_client_options options) {
  auto opened = co_await api::connect_websocket(url, options);
  if (!opened)
    co_return "error: " + opened.err().message;
  api::websocket_client& c = **opened;
  c.ws.binary(true);
  rfb_reader in{c, {}};
  std::string version = co_await in.take(12);
  if (version != "RFB 003.008\n")
    co_return "error: version " + version;
  co_await c.ws.async_write(asio::buffer(version), use_awaitable);
  std::string count = co_await in.take(1);
  std::string types = co_await in.take(static_cast<unsigned char>(count[0]));
  if (types.find('\x01') == std::string::npos)
    co_return "error: no security type None";
  co_await c.ws.async_write(asio::buffer(std::string(1, '\x01')), use_awaitable);
  std::string result = co_await in.take(4);
  if (result != std::string(4, '\0'))
    co_return "error: security result";
  co_await c.ws.async_write(asio::buffer(std::string(1, '\x01')), use_awaitable);  // shared
  std::string init = co_await in.take(4);
  auto u16 = [&](size_t at) {
    return (static_cast<unsigned char>(init[at]) << 8) | static_cast<unsigned char>(init[at + 1]);
  };
  co_return std::to_string(u16(0)) + "x" + std::to_string(u16(2));
}

std::string console_handshake(const std::string& url, const std::string& ca_pem,
                              const std::string& token) {
  asio::io_context io;
  api::websocket_client_options options;
  options.trust = api::tls_trust::trust_ca(ca_pem);
  options.token = token;
  options.subprotocol = "binary";
  std::string out = "error: not finished";
  asio::co_spawn(io, rfb_handshake(url, options),
                 [&](std::exception_ptr e, std::string r) { out = e ? "error: exception" : r; });
  io.run_for(std::chrono::seconds(30));
  return out;
}

class VmLab : public guest_lab_suite {
 protected:
  static void SetUpTestSuite() { bring_up(2); }
  static json status_of(int k) { return call(k, http::verb::get, "/api/v1/vms/web").body; }
  static bool wait_state(const std::string& state, std::chrono::milliseconds deadline) {
    return wait_until([&] { return status_of(2).value("state", "") == state; }, deadline);
  }
  static std::string serial() { return node_file(1, "/run/vcube/vms/web/serial.log"); }
};

TEST_F(VmLab, InvalidDefinitionsAreRefusedNamingTheField) {
  ASSERT_EQ(call(1, http::verb::put, "/api/v1/domain/network/lan",
                 json{{"value", {{"vlan", 0}, {"cidr", "10.231.78.0/24"}}}})
                .status,
            200u);
  struct bad_case {
    json::json_pointer at;
    json value;
    std::string field;
  };
  for (const auto& c :
       std::vector<bad_case>{{"/memory_mib"_json_pointer, 100000000, "memory_mib"},
                             {"/vcpus"_json_pointer, 0, "vcpus"},
                             {"/nics/0/network"_json_pointer, "wan", "nics[0].network"},
                             {"/kernel/kernel"_json_pointer, "missing-kernel", "kernel.kernel"},
                             {"/disks/0/cache"_json_pointer, "fast", "disks[0].cache"},
                             {"/node"_json_pointer, "n9", "node"}}) {
    json config = vm_config("n1");
    config[c.at] = c.value;
    auto r = call(2, http::verb::put, "/api/v1/vms/web", json{{"config", config}});
    EXPECT_EQ(r.status, 400u) << c.field << ": " << r.body.dump();
    EXPECT_EQ(r.body["error"].value("field", ""), c.field) << r.body.dump();
  }
  EXPECT_EQ(call(1, http::verb::get, "/api/v1/vms/web").status, 404u);  // nothing half-created
}

TEST_F(VmLab, CreateAndStartFromTheOtherNode) {
  auto created = call(2, http::verb::put, "/api/v1/vms/web",
                      json{{"config", vm_config("n1")}, {"base_version", 0}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  auto config = call(1, http::verb::get, "/api/v1/vms/web").body["config"];
  std::string mac = config["nics"][0].value("mac", "");
  EXPECT_EQ(mac.rfind("52:54:00:", 0), 0u) << config.dump();
  auto started = call(2, http::verb::post, "/api/v1/vms/web/start");  // forwarded to n1
  ASSERT_EQ(started.status, 200u) << started.body.dump();
  EXPECT_EQ(started.body.value("state", ""), "running");
  EXPECT_EQ(started.body.value("accel", ""), "tcg");  // this machine's KVM cannot boot Linux
  EXPECT_TRUE(wait_until([] { return serial().find("vcube-probe") != std::string::npos; }, 60s))
      << serial();
  EXPECT_TRUE(wait_state("running", 20s)) << status_of(2).dump();
  // The MAC was generated once and is kept by an edit that leaves it out.
  json edited = vm_config("n1");
  edited["description"] = "edited";
  auto put = call(1, http::verb::put, "/api/v1/vms/web", json{{"config", edited}});
  ASSERT_EQ(put.status, 200u) << put.body.dump();
  EXPECT_EQ(status_of(1)["config"]["nics"][0].value("mac", ""), mac);
}

TEST_F(VmLab, GuestAnswersHttpFromTheHost) {
  json got;
  ASSERT_TRUE(wait_until(
      [&] {
        got = guest_http(guest_ip);
        return got.is_object();
      },
      60s))
      << serial();
  EXPECT_EQ(got.value("hostname", ""), "web") << got.dump();
}

TEST_F(VmLab, ConsoleWebSocketCompletesAnRfbHandshakeFromAnyNode) {
  auto login =
      lab_->node(2).call(http::verb::post, "/api/v1/login",
                         json{{"user", "admin"}, {"password", lab_->admin_password()}}, false);
  ASSERT_EQ(login.status, 200u) << login.body.dump();
  std::string token = login.body.value("token", "");
  for (int k : {1, 2}) {  // n1 runs the VM; n2 forwards to it
    std::string url = "wss://" + lab_->node(k).address() + ":8001/api/v1/vms/web/console";
    std::string size = console_handshake(url, lab_->node(k).ca_pem(), token);
    EXPECT_EQ(size.rfind("error", 0), std::string::npos) << "via n" << k << ": " << size;
    EXPECT_NE(size.find('x'), std::string::npos) << size;
  }
  std::string no_token =
      console_handshake("wss://" + lab_->node(2).address() + ":8001/api/v1/vms/web/console",
                        lab_->node(2).ca_pem(), "");
  EXPECT_EQ(no_token.rfind("error", 0), 0u) << no_token;
}

TEST_F(VmLab, ListShowsNodeStateAndUptime) {
  auto list = node_cli(2, {"vm", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.error;
  ASSERT_EQ(list.body.size(), 1u) << list.body.dump();
  EXPECT_EQ(list.body[0].value("node", ""), "n1");
  EXPECT_EQ(list.body[0].value("state", ""), "running");
  EXPECT_EQ(list.body[0].value("vcpus", 0), 1);
  EXPECT_EQ(list.body[0].value("memory_mib", 0), 256);
  EXPECT_TRUE(wait_until([] { return status_of(2).value("uptime_s", 0) > 0; }, 10s));
  // Deleting a running VM is refused, and changes nothing.
  EXPECT_EQ(call(2, http::verb::delete_, "/api/v1/vms/web").status, 409u);
}

TEST_F(VmLab, CdromInsertAndEjectOnARunningVm) {
  {
    std::ofstream iso(images_dir + "/tools.iso", std::ios::binary);
    iso << std::string(64 * 1024, '\0');
  }
  auto missing = call(2, http::verb::post, "/api/v1/vms/web/cdrom", json{{"iso", "../x.iso"}});
  EXPECT_EQ(missing.status, 400u) << missing.body.dump();
  auto inserted = call(2, http::verb::post, "/api/v1/vms/web/cdrom", json{{"iso", "tools.iso"}});
  ASSERT_EQ(inserted.status, 200u) << inserted.body.dump();
  EXPECT_EQ(status_of(1)["config"].value("cdrom", ""), "tools.iso");
  auto cli = node_cli(2, {"vm", "cdrom", "eject", "web"});
  ASSERT_EQ(cli.exit_code, 0) << cli.error;
  EXPECT_EQ(status_of(1)["config"].value("cdrom", "x"), "");
}

TEST_F(VmLab, ResetRestartsTheGuest) {
  size_t boots = count_of(serial(), "vcube-init up");
  ASSERT_GE(boots, 1u);
  auto r = call(2, http::verb::post, "/api/v1/vms/web/reset");
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  EXPECT_TRUE(wait_until([&] { return count_of(serial(), "vcube-init up") > boots; }, 60s))
      << serial();
}

TEST_F(VmLab, RestartingVcubedLeavesTheVmRunningAndReattached) {
  std::string pid = node_file(1, "/run/vcube/vms/web/qemu.pid");
  ASSERT_FALSE(pid.empty());
  std::string vcubed_pid = node_file(1, "/run/vcube/vcubed.pid");
  ASSERT_FALSE(vcubed_pid.empty());
  vcubed_pid = std::to_string(std::stoi(vcubed_pid));
  ASSERT_EQ(run_vcube({"lab", "exec", "1", "--", "kill", vcubed_pid}), 0);
  std::string proc = "/proc/" + vcubed_pid;
  ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(proc); }, 20s));
  ASSERT_EQ(run_vcube({"lab", "exec", "1", "--", vcube_exe(), "service", "start"}), 0);
  ASSERT_TRUE(
      wait_until([] { return call(1, http::verb::get, "/api/v1/health").status == 200; }, 30s));
  EXPECT_EQ(node_file(1, "/run/vcube/vms/web/qemu.pid"), pid);  // the same QEMU
  EXPECT_TRUE(guest_http(guest_ip).is_object());
  // Re-attached: actions work on it.
  auto paused = call(1, http::verb::post, "/api/v1/vms/web/pause");
  ASSERT_EQ(paused.status, 200u) << paused.body.dump();
  EXPECT_EQ(paused.body.value("state", ""), "paused");
  EXPECT_TRUE(wait_state("paused", 20s));
  auto resumed = call(1, http::verb::post, "/api/v1/vms/web/resume");
  EXPECT_EQ(resumed.body.value("state", ""), "running") << resumed.body.dump();
}

TEST_F(VmLab, AcpiShutdownStopsTheGuestCleanly) {
  // The guest handles the power button once acpid runs (a few seconds after boot).
  ASSERT_TRUE(wait_until([] { return guest_http(guest_ip).is_object(); }, 60s));
  auto r = call(2, http::verb::post, "/api/v1/vms/web/shutdown", json{{"timeout_s", 60}});
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  EXPECT_EQ(r.body.value("state", ""), "stopped");
  EXPECT_EQ(r.body.value("reason", ""), "guest shut down");
  EXPECT_NE(serial().find("vcube-power-button"), std::string::npos);
  EXPECT_TRUE(wait_state("stopped", 20s));
}

TEST_F(VmLab, GuestPowerOffIsReportedAsSuch) {
  json config = vm_config("n1", " vcube.poweroff_after=5");
  auto current = status_of(1);
  ASSERT_EQ(call(1, http::verb::put, "/api/v1/vms/web",
                 json{{"config", config}, {"base_version", current["version"]}})
                .status,
            200u);
  ASSERT_EQ(call(1, http::verb::post, "/api/v1/vms/web/start").status, 200u);
  EXPECT_TRUE(wait_until(
      [] {
        auto s = status_of(2);
        return s.value("state", "") == "stopped" && s.value("reason", "") == "guest shut down";
      },
      90s))
      << status_of(2).dump();
  EXPECT_NE(serial().find("vcube-init guest poweroff"), std::string::npos);
}

TEST_F(VmLab, TheGuestKeepsItsAddressOnTheOtherNode) {
  json config = vm_config("n2");
  auto current = status_of(1);
  auto moved = call(1, http::verb::put, "/api/v1/vms/web",
                    json{{"config", config}, {"base_version", current["version"]}});
  ASSERT_EQ(moved.status, 200u) << moved.body.dump();
  auto started = call(1, http::verb::post, "/api/v1/vms/web/start");  // forwarded to n2
  ASSERT_EQ(started.status, 200u) << started.body.dump();
  EXPECT_EQ(started.body.value("node", ""), "n2");
  json got;
  EXPECT_TRUE(wait_until(
      [&] {
        got = guest_http(guest_ip);
        return got.is_object();
      },
      60s));
  EXPECT_EQ(got.value("hostname", ""), "web");
  auto off = call(1, http::verb::post, "/api/v1/vms/web/poweroff");
  EXPECT_EQ(off.status, 200u) << off.body.dump();
}

TEST_F(VmLab, PowerOffThenKilledQemuIsReportedCrashed) {
  auto current = status_of(1);
  ASSERT_EQ(call(1, http::verb::put, "/api/v1/vms/web",
                 json{{"config", vm_config("n1")}, {"base_version", current["version"]}})
                .status,
            200u);
  ASSERT_EQ(call(2, http::verb::post, "/api/v1/vms/web/start").status, 200u);
  // Pressed this early, the power button is lost (the guest's acpid is not
  // running yet): the shutdown times out and the VM is "not responding".
  auto early = call(2, http::verb::post, "/api/v1/vms/web/shutdown", json{{"timeout_s", 1}});
  EXPECT_EQ(early.status, 504u) << early.body.dump();
  EXPECT_TRUE(wait_until([] { return status_of(2).value("not_responding", false); }, 20s))
      << status_of(2).dump();
  EXPECT_EQ(status_of(2).value("state", ""), "running");
  // Power off (QEMU quits at once), then start again: the executor releases
  // the ended QEMU only after the action that awaited it has finished.
  auto off = call(2, http::verb::post, "/api/v1/vms/web/poweroff");
  ASSERT_EQ(off.status, 200u) << off.body.dump();
  EXPECT_EQ(off.body.value("state", ""), "stopped");
  EXPECT_EQ(off.body.value("reason", ""), "host request");
  ASSERT_EQ(call(2, http::verb::post, "/api/v1/vms/web/start").status, 200u);
  ASSERT_EQ(run_vcube({"lab", "exec", "1", "--", "sh", "-c",
                       "kill -9 $(cat /run/vcube/vms/web/qemu.pid)"}),
            0);
  EXPECT_TRUE(wait_state("crashed", 30s)) << status_of(2).dump();
  EXPECT_EQ(status_of(2).value("reason", "").rfind("crash", 0), 0u) << status_of(2).dump();
  // A crashed VM can be deleted; its status goes with it.
  auto deleted = call(2, http::verb::delete_, "/api/v1/vms/web");
  EXPECT_EQ(deleted.status, 200u) << deleted.body.dump();
  EXPECT_EQ(call(1, http::verb::get, "/api/v1/domain/vm_status/web").status, 404u);
}

}  // namespace
}  // namespace vcube::labtest
