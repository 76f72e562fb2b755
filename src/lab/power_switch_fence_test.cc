// The real /usr/sbin/fence_redfish, driven by the fence runner (src/fence),
// against the lab power switch running in this process with its sockets in
// two temporary network namespaces. The power hooks only record (no cluster
// needed). Needs root and network namespaces; skips without them.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "env/files.h"
#include "env/process.h"
#include "fence/fencing.h"
#include "lab/power_switch_server.h"

namespace vcube::lab {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string password = "Pw-" + std::to_string(getpid()) + "-x7";

// Runs `body` on a thread inside a network namespace: the agent the runner
// forks there is in that node's namespace, as on a real node.
template <class Body>
void in_netns(const std::string& path, Body body) {
  std::thread([&] {
    int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(ns, 0) << path;
    ASSERT_EQ(setns(ns, CLONE_NEWNET), 0) << path;
    close(ns);
    body();
  }).join();
}

fence::fence_device switch_device(const std::string& secret) {
  auto j = json{{"agent", "fence_redfish"},
                {"options",
                 {{"ip", "127.0.0.1"},
                  {"ipport", "8443"},
                  {"username", "admin"},
                  {"password", secret},
                  {"ssl_insecure", "1"}}},
                {"nodes",
                 {{"n1", {{"systems_uri", "/redfish/v1/Systems/n1"}}},
                  {"n2", {{"systems_uri", "/redfish/v1/Systems/n2"}}}}}};
  return fence::parse_fence_device("lab-switch", j).value();
}

class switch_with_fence_redfish : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0)
      GTEST_SKIP() << "needs root (network namespaces)";
    if (!env::file_exists("/usr/sbin/fence_redfish"))
      GTEST_SKIP() << "needs /usr/sbin/fence_redfish (Debian package fence-agents)";
    dir_ = fs::temp_directory_path() / ("vcube-switch-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    for (int k = 1; k <= 2; ++k) {
      std::string name = "vcube-fence-test-" + std::to_string(getpid()) + "-" + std::to_string(k);
      auto added = env::run({"ip", "netns", "add", name}, {}, 20s);
      if (!added || added->exit_code != 0)
        GTEST_SKIP() << "cannot create network namespaces: " << (added ? added->err : "");
      netns_.push_back(name);
      ASSERT_TRUE(env::run_checked({"ip", "-n", name, "link", "set", "lo", "up"}, {}, 20s).ok());
    }
    start_switch();
  }

  void TearDown() override {
    server_.reset();
    for (const auto& name : netns_)
      (void)env::run({"ip", "netns", "delete", name}, {}, 20s);
    if (!dir_.empty())
      fs::remove_all(dir_);
  }

  void start_switch() {
    power_switch_config config;
    for (const auto& name : netns_)
      config.netns_paths.push_back("/run/netns/" + name);
    config.password = password;
    config.state_file = (dir_ / "switch-state.json").string();
    config.power_off = [this](int k) { return record("off", k); };
    config.power_on = [this](int k) { return record("on", k); };
    log_file_ = std::make_unique<std::ofstream>(dir_ / "switch.log", std::ios::app);
    config.log = log_file_.get();
    server_ = std::make_unique<power_switch>(std::move(config));
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.err().message;
  }

  status record(const std::string& what, int k) {
    // Long enough for a competing request to arrive and wait for its turn.
    std::this_thread::sleep_for(300ms);
    std::lock_guard lock(hooks_mutex_);
    hooks_.push_back(what + " n" + std::to_string(k));
    return ok_status();
  }

  std::vector<std::string> hooks() {
    std::lock_guard lock(hooks_mutex_);
    return hooks_;
  }

  std::string log_text() { return env::read_file((dir_ / "switch.log").string()).value(); }

  std::string node_netns(int k) { return "/run/netns/" + netns_[static_cast<size_t>(k - 1)]; }

  fence::fence_attempt run_from(int k, const fence::fence_device& device, const std::string& node,
                                fence::fence_action action) {
    fence::fence_attempt out;
    in_netns(node_netns(k), [&] { out = fence::run_action(context_, device, node, action); });
    return out;
  }

  fence::fence_result fence_from(int k, const fence::fence_device& device,
                                 const std::string& node) {
    fence::fence_result out;
    in_netns(node_netns(k), [&] { out = fence::fence_off(context_, {device}, node); });
    return out;
  }

  fs::path dir_;
  std::vector<std::string> netns_;
  std::unique_ptr<std::ofstream> log_file_;
  std::unique_ptr<power_switch> server_;
  fence::fence_context context_;
  std::mutex hooks_mutex_;
  std::vector<std::string> hooks_;
};

TEST_F(switch_with_fence_redfish, status_off_confirmed_then_on) {
  auto device = switch_device(password);
  auto status = run_from(1, device, "n2", fence::fence_action::status);
  EXPECT_EQ(status.exit_code, 0) << status.message;  // on

  auto fenced = fence_from(1, device, "n2");
  ASSERT_TRUE(fenced.is_confirmed) << fenced.message;
  ASSERT_EQ(fenced.attempts.size(), 2u);
  EXPECT_EQ(fenced.attempts[0].action, "off");
  EXPECT_EQ(fenced.attempts[1].exit_code, 2);
  EXPECT_EQ(hooks(), (std::vector<std::string>{"off n2"}));
  EXPECT_EQ(server_->states(), (std::vector<power_state>{power_state::on, power_state::off}));
  EXPECT_NE(log_text().find(" n1 POST /redfish/v1/Systems/n2/Actions/ComputerSystem.Reset n2 "
                            "ForceOff 204\n"),
            std::string::npos)
      << log_text();

  // An outlet that is off: the node's own connections go unanswered.
  auto from_off = run_from(2, device, "n1", fence::fence_action::status);
  EXPECT_EQ(from_off.exit_code, 1) << from_off.message;
  EXPECT_NE(log_text().find(" n2 - - - - dropped\n"), std::string::npos) << log_text();

  auto on = run_from(1, device, "n2", fence::fence_action::on);
  EXPECT_TRUE(on.is_ok) << on.message;
  EXPECT_EQ(hooks(), (std::vector<std::string>{"off n2", "on n2"}));
  EXPECT_EQ(run_from(2, device, "n2", fence::fence_action::status).exit_code, 0);
}

TEST_F(switch_with_fence_redfish, remembers_power_state_across_restart) {
  auto device = switch_device(password);
  ASSERT_TRUE(fence_from(2, device, "n1").is_confirmed);
  server_.reset();
  start_switch();
  EXPECT_EQ(server_->states(), (std::vector<power_state>{power_state::off, power_state::on}));
  EXPECT_EQ(run_from(2, device, "n1", fence::fence_action::status).exit_code, 2);
}

TEST_F(switch_with_fence_redfish, wrong_password_is_not_confirmed) {
  auto wrong = switch_device("not-the-password");
  auto fenced = fence_from(1, wrong, "n2");
  EXPECT_FALSE(fenced.is_confirmed);
  ASSERT_FALSE(fenced.attempts.empty());
  EXPECT_FALSE(fenced.attempts[0].is_ok);
  EXPECT_FALSE(fenced.attempts[0].message.empty());
  EXPECT_NE(fenced.message.find(fenced.attempts[0].message), std::string::npos) << fenced.message;
  EXPECT_TRUE(hooks().empty());
  EXPECT_NE(log_text().find(" n1 GET /redfish/v1/Systems/n2 - - 401\n"), std::string::npos)
      << log_text();

  in_netns(node_netns(1), [&] {
    EXPECT_TRUE(fence::monitor(context_, switch_device(password)).ok());
    auto failed = fence::monitor(context_, wrong);
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.err().message.find("monitor failed"), std::string::npos);
  });
}

TEST_F(switch_with_fence_redfish, concurrent_fences_execute_one_at_a_time) {
  auto device = switch_device(password);
  fence::fence_result by_n1, by_n2;
  std::thread a([&] { by_n1 = fence_from(1, device, "n2"); });
  std::thread b([&] { by_n2 = fence_from(2, device, "n1"); });
  a.join();
  b.join();
  // Exactly one wins; the loser was switched off before its own reset ran.
  EXPECT_NE(by_n1.is_confirmed, by_n2.is_confirmed) << by_n1.message << " | " << by_n2.message;
  ASSERT_EQ(hooks().size(), 1u);
  int loser = by_n1.is_confirmed ? 2 : 1;
  EXPECT_EQ(hooks()[0], "off n" + std::to_string(loser));
  auto states = server_->states();
  EXPECT_EQ(states[static_cast<size_t>(loser - 1)], power_state::off);
  EXPECT_EQ(states[static_cast<size_t>(2 - loser)], power_state::on);
  EXPECT_NE(log_text().find(" n" + std::to_string(loser) + " "), std::string::npos);
  EXPECT_TRUE(log_text().find("dropped\n") != std::string::npos) << log_text();
}

}  // namespace
}  // namespace vcube::lab
