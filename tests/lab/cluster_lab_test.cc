// The foundation's behaviour on a real 3-node cluster in the lab: real
// corosync, real vcubed, real HTTPS. One lab for the whole suite; the tests
// run in order and each leaves the cluster healed and converged.
#include <gtest/gtest.h>

#include <thread>

#include "api/tls.h"
#include "env/files.h"
#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

class ThreeNodeLab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    why_ = skip_reason();
    if (why_.empty())
      lab_ = lab_cluster::up(3, why_).release();
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    if (!skip_reason().empty())
      GTEST_SKIP() << why_;
    ASSERT_NE(lab_, nullptr) << why_;
  }

  static json status_of(int k) {
    return lab_->node(k).call(http::verb::get, "/api/v1/cluster/status").body;
  }
  static std::string checksum_of(int k) {
    auto s = status_of(k);
    return s.is_object() && s.value("synced", false) ? s.value("checksum", "") : "";
  }
  // Every node synced, with the same checksum.
  static bool converged() {
    std::string first = checksum_of(1);
    if (first.empty())
      return false;
    for (int k = 2; k <= lab_->size(); ++k) {
      if (checksum_of(k) != first)
        return false;
    }
    return true;
  }
  static answer put(int k, const std::string& kind, const std::string& name, json value) {
    return lab_->node(k).call(http::verb::put, "/api/v1/domain/" + kind + "/" + name,
                              json{{"value", std::move(value)}});
  }
  // A write that succeeds once the node is writable again (after a membership change).
  static answer put_when_writable(int k, const std::string& kind, const std::string& name,
                                  const json& value) {
    answer last;
    wait_until(
        [&] {
          last = put(k, kind, name, value);
          return last.status != 503;
        },
        30s);
    return last;
  }
  static uint64_t version_of(int k) { return status_of(k).value("version", uint64_t{0}); }

  static inline lab_cluster* lab_ = nullptr;
  static inline std::string why_;
};

TEST_F(ThreeNodeLab, FormsByCreateAndJoin) {
  json s = status_of(1);
  ASSERT_TRUE(s.is_object()) << s.dump();
  EXPECT_EQ(s["members"].size(), 3u) << s.dump();
  EXPECT_TRUE(s["quorum"]["is_quorate"].get<bool>());
  EXPECT_EQ(s["quorum"]["expected_votes"], 3);
  ASSERT_EQ(s["nodes"].size(), 3u);
  // Joined nodes start in standby; `lab up` sets them online once the lab's
  // power switch is their fence device.
  for (const auto& node : s["nodes"])
    EXPECT_EQ(node["mode"], "online") << s.dump();
  EXPECT_TRUE(wait_until(converged, 20s));
}

TEST_F(ThreeNodeLab, WriteOnOneNodeIsReadOnTheOthers) {
  auto w = put(1, "network", "lan", {{"vlan", 10}, {"cidr", "192.0.2.0/24"}, {"mtu", 1500}});
  ASSERT_EQ(w.status, 200u) << w.body.dump();
  uint64_t version = w.body["version"];
  for (int k : {2, 3}) {
    answer r;
    EXPECT_TRUE(wait_until(
        [&] {
          r = lab_->node(k).call(http::verb::get, "/api/v1/domain/network/lan");
          return r.status == 200;
        },
        10s));
    EXPECT_EQ(r.body["value"]["mtu"], 1500) << r.body.dump();
    EXPECT_EQ(r.body["version"], version);
  }
}

TEST_F(ThreeNodeLab, SetOnlineChangesTheMode) {
  auto r = lab_->node(3).call(http::verb::post, "/api/v1/nodes/n2/mode", json{{"mode", "online"}});
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  auto n2 = lab_->node(1).call(http::verb::get, "/api/v1/domain/node/n2");
  EXPECT_TRUE(wait_until(
      [&] {
        n2 = lab_->node(1).call(http::verb::get, "/api/v1/domain/node/n2");
        return n2.body["value"]["mode"] == "online";
      },
      10s))
      << n2.body.dump();
}

TEST_F(ThreeNodeLab, ConcurrentWritesOnAllNodesConverge) {
  constexpr int writes_per_node = 15;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int k = 1; k <= 3; ++k) {
    writers.emplace_back([k, &failures] {
      for (int i = 0; i < writes_per_node; ++i) {
        // All nodes write the same objects too, so the order decides the content.
        auto r = put(k, "host", "shared-" + std::to_string(i % 3),
                     {{"address", "192.0.2." + std::to_string(k)}});
        auto own = put(k, "host", "h" + std::to_string(k) + "-" + std::to_string(i),
                       {{"address", "192.0.2." + std::to_string(100 + i)}});
        if (r.status != 200 || own.status != 200)
          ++failures;
      }
    });
  }
  for (auto& t : writers)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(wait_until(converged, 20s));
  auto hosts = lab_->node(2).call(http::verb::get, "/api/v1/domain/host");
  EXPECT_EQ(hosts.body["items"].size(), 3u + 3u * writes_per_node);
}

TEST_F(ThreeNodeLab, PartitionedNodeRefusesWritesServesReadsAndConvergesAfterHeal) {
  ASSERT_EQ(put(1, "host", "before-partition", {{"address", "192.0.2.49"}}).status, 200u);
  ASSERT_TRUE(wait_until(converged, 20s));
  // The host cannot reach a partitioned node: talk to n3 from inside it.
  ASSERT_EQ(run_vcube({"lab", "partition", "3"}), 0);
  ASSERT_TRUE(wait_until(
      [] {
        auto s = node_cli(3, {"cluster", "status"});
        return s.exit_code == 0 && !s.body["quorum"].value("is_quorate", true);
      },
      30s));
  auto refused = node_cli(3, {"set", "host", "minority", "address=192.0.2.50"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.error.find("no quorum"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("1 of 3"), std::string::npos) << refused.error;
  auto read = node_cli(3, {"get", "host", "before-partition"});
  EXPECT_EQ(read.exit_code, 0) << read.error;
  EXPECT_TRUE(read.body.value("stale", false)) << read.body.dump();

  auto majority = put_when_writable(1, "host", "majority", {{"address", "192.0.2.51"}});
  EXPECT_EQ(majority.status, 200u) << majority.body.dump();

  ASSERT_EQ(run_vcube({"lab", "heal"}), 0);
  EXPECT_TRUE(wait_until(converged, 60s));
  EXPECT_EQ(lab_->node(3).call(http::verb::get, "/api/v1/domain/host/majority").status, 200u);
  EXPECT_EQ(lab_->node(3).call(http::verb::get, "/api/v1/domain/host/minority").status, 404u);
}

TEST_F(ThreeNodeLab, KilledNodeRestartedConverges) {
  ASSERT_EQ(run_vcube({"lab", "kill", "2"}), 0);
  auto w = put_when_writable(1, "host", "while-n2-down", {{"address", "192.0.2.60"}});
  EXPECT_EQ(w.status, 200u) << w.body.dump();
  ASSERT_EQ(run_vcube({"lab", "start", "2"}), 0);
  EXPECT_TRUE(wait_until(converged, 60s));
  EXPECT_EQ(lab_->node(2).call(http::verb::get, "/api/v1/domain/host/while-n2-down").status, 200u);
}

TEST_F(ThreeNodeLab, BadInputGetsTheRightErrorAndChangesNothing) {
  ASSERT_TRUE(wait_until(converged, 30s));
  uint64_t before = version_of(1);
  auto& n1 = lab_->node(1);
  auto malformed = n1.call_raw("PUT", "/api/v1/domain/host/x", "{\"value\": {");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_EQ(malformed.body["error"]["code"], "invalid_input");
  auto unknown = put(1, "network", "bad",
                     {{"vlan", 1}, {"cidr", "192.0.2.0/24"}, {"mtu", 1500}, {"colour", "red"}});
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_EQ(unknown.body["error"]["field"], "colour") << unknown.body.dump();
  auto range = put(1, "network", "bad", {{"vlan", 1}, {"cidr", "192.0.2.0/24"}, {"mtu", 70000}});
  EXPECT_EQ(range.status, 400u);
  EXPECT_EQ(range.body["error"]["field"], "mtu") << range.body.dump();
  auto big = n1.call_raw("PUT", "/api/v1/domain/host/x",
                         "{\"value\": {\"address\": \"" + std::string(2 << 20, 'a') + "\"}}");
  EXPECT_EQ(big.status, 413u);
  auto anonymous = n1.call(http::verb::get, "/api/v1/domain/host", {}, false);
  EXPECT_EQ(anonymous.status, 401u);
  auto stale_base = n1.call(http::verb::put, "/api/v1/domain/network/lan",
                            json{{"value", {{"vlan", 11}, {"cidr", "192.0.2.0/24"}, {"mtu", 1500}}},
                                 {"base_version", 1}});
  EXPECT_EQ(stale_base.status, 409u) << stale_base.body.dump();
  EXPECT_EQ(version_of(1), before);
  EXPECT_EQ(n1.call(http::verb::get, "/api/v1/domain/network/bad").status, 404u);
}

json join_body(const std::string& password, int64_t time) {
  auto key = api::generate_key();
  auto csr = api::create_csr(*key, "n9", "10.231.77.19");
  return {{"password", password},
          {"name", "n9"},
          {"address", "10.231.77.19"},
          {"time", time},
          {"csr", api::to_pem(*csr)}};
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(ThreeNodeLab, JoinWithWrongPasswordOrSkewedClockIsRefused) {
  uint64_t before = version_of(1);
  auto wrong = lab_->node(2).call(http::verb::post, "/api/v1/cluster/join",
                                  join_body("not-the-password", now_s()), false);
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_NE(wrong.body.dump().find("wrong cluster admin password"), std::string::npos);
  auto skewed = lab_->node(2).call(http::verb::post, "/api/v1/cluster/join",
                                   join_body(lab_->admin_password(), now_s() - 600), false);
  EXPECT_EQ(skewed.status, 409u);
  std::string message = skewed.body["error"].value("message", "");
  EXPECT_NE(message.find("clock"), std::string::npos) << message;
  EXPECT_NE(message.find("60 s"), std::string::npos) << message;
  EXPECT_EQ(version_of(1), before);
  EXPECT_EQ(lab_->node(1).call(http::verb::get, "/api/v1/domain/node/n9").status, 404u);
}

TEST_F(ThreeNodeLab, CliReadsAndWritesThroughAnyNode) {
  std::string out;
  ASSERT_EQ(run_vcube({"lab", "exec", "2", "--", vcube_exe(), "set", "host", "cli-host",
                       "address=192.0.2.77"},
                      &out),
            0)
      << out;
  ASSERT_EQ(run_vcube({"lab", "exec", "3", "--", vcube_exe(), "get", "host", "cli-host"}, &out), 0)
      << out;
  EXPECT_NE(out.find("192.0.2.77"), std::string::npos) << out;
  ASSERT_EQ(run_vcube({"lab", "exec", "1", "--", vcube_exe(), "cluster", "status"}, &out), 0)
      << out;
  EXPECT_NE(out.find("quorum"), std::string::npos) << out;
}

TEST_F(ThreeNodeLab, StagedChangesActivateAsOneVersionFromAnyNode) {
  auto& n1 = lab_->node(1);
  auto staged = n1.call(http::verb::put, "/api/v1/domain/host/staged-a",
                        json{{"value", {{"address", "192.0.2.90"}}}, {"stage", true}});
  ASSERT_EQ(staged.status, 200u) << staged.body.dump();
  EXPECT_EQ(n1.call(http::verb::get, "/api/v1/domain/host/staged-a").status, 404u);
  auto& n2 = lab_->node(2);
  answer pending;
  ASSERT_TRUE(wait_until(
      [&] {
        pending = n2.call(http::verb::get, "/api/v1/staged");
        return pending.body["changes"].size() == 1;
      },
      10s))
      << pending.body.dump();
  uint64_t before = version_of(2);
  auto activated = n2.call(http::verb::post, "/api/v1/staged/activate");
  ASSERT_EQ(activated.status, 200u) << activated.body.dump();
  EXPECT_EQ(activated.body["version"], before + 1);
  EXPECT_EQ(n2.call(http::verb::get, "/api/v1/domain/host/staged-a").status, 200u);
}

TEST_F(ThreeNodeLab, BackupExportsAndImports) {
  auto& n1 = lab_->node(1);
  auto backup = n1.call(http::verb::get, "/api/v1/backup");
  ASSERT_EQ(backup.status, 200u);
  EXPECT_EQ(backup.body["format"], "vcube-domain-backup");
  ASSERT_EQ(put(1, "host", "after-backup", {{"address", "192.0.2.91"}}).status, 200u);
  auto restored = n1.call(http::verb::post, "/api/v1/backup", backup.body);
  ASSERT_EQ(restored.status, 200u) << restored.body.dump();
  EXPECT_EQ(n1.call(http::verb::get, "/api/v1/domain/host/after-backup").status, 404u);
  EXPECT_EQ(n1.call(http::verb::get, "/api/v1/domain/node/n3").status, 200u);
}

TEST_F(ThreeNodeLab, RolesLimitWhatAUserMayDo) {
  auto created =
      put(1, "user", "watcher", {{"password", "watcher-password"}, {"roles", {"viewer"}}});
  ASSERT_EQ(created.status, 200u) << created.body.dump();
  auto shown = lab_->node(2).call(http::verb::get, "/api/v1/domain/user/watcher");
  EXPECT_FALSE(shown.body["value"].contains("password_hash")) << shown.body.dump();
  node_api viewer(lab_->node(2).address(), lab_->node(2).ca_pem(), lab_->node(2).ca_file());
  auto login = viewer.call(http::verb::post, "/api/v1/login",
                           json{{"user", "watcher"}, {"password", "watcher-password"}}, false);
  ASSERT_EQ(login.status, 200u) << login.body.dump();
  viewer.set_token(login.body["token"]);
  EXPECT_EQ(viewer.call(http::verb::get, "/api/v1/domain/host").status, 200u);
  auto refused = viewer.call(http::verb::put, "/api/v1/domain/host/by-viewer",
                             json{{"value", {{"address", "192.0.2.3"}}}});
  EXPECT_EQ(refused.status, 403u) << refused.body.dump();
  auto wrong = viewer.call(http::verb::post, "/api/v1/login",
                           json{{"user", "watcher"}, {"password", "not-it"}}, false);
  EXPECT_EQ(wrong.status, 401u);
}

TEST_F(ThreeNodeLab, VcubedSurvivesACorosyncRestart) {
  ASSERT_TRUE(wait_until(converged, 30s));
  // The node's corosync only (its pid file is in the node's private /run).
  ASSERT_EQ(run_vcube({"lab", "exec", "2", "--", "sh", "-c", "kill -9 $(cat /run/corosync.pid)"}),
            0);
  ASSERT_TRUE(wait_until([] { return !status_of(2).value("connected", true); }, 20s));
  ASSERT_EQ(put_when_writable(1, "host", "during-restart", {{"address", "192.0.2.70"}}).status,
            200u);
  ASSERT_EQ(run_vcube({"lab", "exec", "2", "--", vcube_exe(), "service", "start"}), 0);
  EXPECT_TRUE(wait_until(converged, 60s));
  EXPECT_EQ(lab_->node(2).call(http::verb::get, "/api/v1/domain/host/during-restart").status, 200u);
  EXPECT_EQ(put_when_writable(2, "host", "after-restart", {{"address", "192.0.2.71"}}).status,
            200u);
}

TEST_F(ThreeNodeLab, ServicesStopCleanlyAndStartAgain) {
  ASSERT_TRUE(wait_until(converged, 30s));
  std::string out;
  // SIGTERM to vcubed, then corosync's own shutdown; both must be gone.
  ASSERT_EQ(run_vcube({"lab", "exec", "3", "--", vcube_exe(), "service", "stop"}, &out), 0) << out;
  EXPECT_NE(run_vcube({"lab", "exec", "3", "--", "sh", "-c",
                       "kill -0 $(cat /run/vcube/vcubed.pid) 2>/dev/null || "
                       "test -e /run/vcube/vcubed.pid"}),
            0);
  auto log = env::read_file("/var/lib/vcube-lab/n3/var-log-vcube/vcubed.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->rfind("stopped"), std::string::npos);
  ASSERT_EQ(put_when_writable(1, "host", "while-n3-stopped", {{"address", "192.0.2.72"}}).status,
            200u);
  ASSERT_EQ(run_vcube({"lab", "exec", "3", "--", vcube_exe(), "service", "start"}, &out), 0) << out;
  EXPECT_TRUE(wait_until(converged, 60s));
}

// Last: it leaves a two-node cluster.
TEST_F(ThreeNodeLab, ZRemovedNodeLeavesCorosyncConfOnEveryMember) {
  ASSERT_TRUE(wait_until(converged, 30s));
  auto refused = lab_->node(1).call(http::verb::delete_, "/api/v1/nodes/n3");
  EXPECT_EQ(refused.status, 409u) << refused.body.dump();  // still a running member
  ASSERT_EQ(run_vcube({"lab", "kill", "3"}), 0);
  answer removed;
  ASSERT_TRUE(wait_until(
      [&] {
        removed = lab_->node(1).call(http::verb::delete_, "/api/v1/nodes/n3");
        return removed.status == 200;
      },
      30s))
      << removed.body.dump();
  auto device = lab_->node(1).call(http::verb::get, "/api/v1/fence/devices/lab-switch").body;
  EXPECT_FALSE(device["nodes"].contains("n3")) << device.dump();
  EXPECT_TRUE(device["nodes"].contains("n2")) << device.dump();
  for (int k : {1, 2}) {
    std::string conf;
    EXPECT_TRUE(wait_until(
        [&] {
          auto text = env::read_file("/var/lib/vcube-lab/n" + std::to_string(k) +
                                     "/etc-corosync/corosync.conf");
          conf = text ? *text : "";
          return !conf.empty() && conf.find("10.231.77.13") == std::string::npos;
        },
        10s))
        << conf;
  }
  EXPECT_TRUE(
      wait_until([] { return status_of(2)["quorum"].value("expected_votes", 0) == 2; }, 20s))
      << status_of(2).dump();
  EXPECT_EQ(put_when_writable(2, "host", "after-removal", {{"address", "192.0.2.80"}}).status,
            200u);
}

}  // namespace
}  // namespace vcube::labtest
