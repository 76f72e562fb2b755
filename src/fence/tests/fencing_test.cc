#include "fence/fencing.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace vcube::fence {
namespace {

using namespace std::chrono_literals;

fence_device device(std::string name, int level, std::vector<std::string> nodes) {
  fence_device d;
  d.name = std::move(name);
  d.agent = "fence_fake";
  d.level = level;
  d.options["ip"] = d.name;  // lets the fake tell the devices apart
  for (auto& n : nodes)
    d.node_options[n] = {{"plug", n}};
  return d;
}

// Answers "device action" with a scripted exit code (or error) and records the calls.
struct fake_agents {
  std::map<std::string, result<agent_output>> script;
  std::vector<std::string> calls;
  std::vector<std::chrono::milliseconds> timeouts;

  fence_context context() {
    fence_context c;
    c.run = [this](const std::string& path, const std::string& input,
                   std::chrono::milliseconds timeout) -> result<agent_output> {
      EXPECT_EQ(path, "/usr/sbin/fence_fake");
      auto ip = input.substr(3, input.find('\n') - 3);
      auto action = input.substr(input.rfind("action=") + 7);
      action.pop_back();
      calls.push_back(ip + " " + action);
      timeouts.push_back(timeout);
      auto it = script.find(calls.back());
      return it == script.end() ? result<agent_output>(agent_output{0, "", ""}) : it->second;
    };
    c.now_unix_ms = [] { return int64_t{1'000}; };
    return c;
  }
};

agent_output exits(int code, std::string err = {}) {
  return agent_output{code, "", std::move(err)};
}

TEST(fence_off, first_device_confirms) {
  fake_agents fake;
  fake.script.emplace("a status", exits(2));
  auto r = fence_off(fake.context(), {device("b", 2, {"n1"}), device("a", 1, {"n1"})}, "n1");
  EXPECT_TRUE(r.is_confirmed);
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"a off", "a status"}));
  ASSERT_EQ(r.attempts.size(), 2u);
  EXPECT_EQ(r.attempts[0].device, "a");
  EXPECT_EQ(r.attempts[0].node, "n1");
  EXPECT_EQ(r.attempts[0].action, "off");
  EXPECT_TRUE(r.attempts[0].is_ok);
  EXPECT_EQ(r.attempts[1].exit_code, 2);
  EXPECT_TRUE(r.attempts[1].is_ok);
  EXPECT_EQ(r.attempts[1].started_unix_ms, 1'000);
  EXPECT_NE(r.message.find("confirmed by a"), std::string::npos) << r.message;
}

TEST(fence_off, off_not_confirmed_goes_to_the_next_level) {
  fake_agents fake;
  fake.script.emplace("a status", exits(0));  // still on after off
  fake.script.emplace("b off",
                      exits(1, "ERROR: Failed: Unable to connect\nPlease use '-h' for usage\n"));
  fake.script.emplace("c status", exits(2));
  auto r = fence_off(fake.context(),
                     {device("c", 3, {"n1"}), device("b", 2, {"n1"}), device("a", 1, {"n1"}),
                      device("z", 1, {"n2"})},
                     "n1");
  EXPECT_TRUE(r.is_confirmed);
  EXPECT_EQ(fake.calls,
            (std::vector<std::string>{"a off", "a status", "b off", "c off", "c status"}));
  EXPECT_FALSE(r.attempts[2].is_ok);
  EXPECT_EQ(r.attempts[2].message, "ERROR: Failed: Unable to connect");
}

TEST(fence_off, nothing_confirmed_reports_every_failure) {
  fake_agents fake;
  fake.script.emplace("a status", exits(1, "Unable to get PowerState"));
  fake.script.emplace("b off", make_error(errc::timeout, "fence_fake: no result within 60000 ms"));
  auto r = fence_off(fake.context(), {device("a", 1, {"n1"}), device("b", 2, {"n1"})}, "n1");
  EXPECT_FALSE(r.is_confirmed);
  EXPECT_EQ(r.attempts.size(), 3u);
  EXPECT_FALSE(r.attempts[1].is_ok);  // status exit 1 is an error, not "on" or "off"
  EXPECT_EQ(r.attempts[2].exit_code, -1);
  EXPECT_NE(r.message.find("a status: Unable to get PowerState"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("no result within"), std::string::npos) << r.message;
  EXPECT_LE(r.message.size(), 512u);
}

TEST(fence_off, no_device_is_not_confirmed) {
  fake_agents fake;
  auto r = fence_off(fake.context(), {device("a", 1, {"n2"})}, "n1");
  EXPECT_FALSE(r.is_confirmed);
  EXPECT_TRUE(fake.calls.empty());
  EXPECT_EQ(r.message, "no fence device covers n1");
}

TEST(fence_off, each_action_gets_its_timeout) {
  fake_agents fake;
  fake.script.emplace("a status", exits(2));
  auto context = fake.context();
  context.timeouts.off = 7s;
  context.timeouts.query = 3s;
  EXPECT_TRUE(fence_off(context, {device("a", 1, {"n1"})}, "n1").is_confirmed);
  EXPECT_EQ(fake.timeouts, (std::vector<std::chrono::milliseconds>{7s, 3s}));
}

TEST(monitor, ok_or_the_agents_message) {
  fake_agents fake;
  EXPECT_TRUE(monitor(fake.context(), device("a", 1, {"n1"})).ok());
  fake.script.emplace("b monitor", exits(1, "Unable to get PowerState"));
  auto failed = monitor(fake.context(), device("b", 1, {"n1"}));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.err().message.find("Unable to get PowerState"), std::string::npos);
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"a monitor", "b monitor"}));
}

TEST(output_tail, bounded_and_trimmed) {
  EXPECT_EQ(output_tail(agent_output{1, "  out\n", ""}), "out");
  EXPECT_EQ(output_tail(agent_output{1, "out", "\n err \n"}), "err");
  auto long_tail = output_tail(agent_output{1, "", std::string(600, 'x') + "END\n"});
  EXPECT_EQ(long_tail.size(), 512u);
  EXPECT_TRUE(long_tail.ends_with("END"));
}

// A real process: stdin arrives, and the timeout kills the agent's whole
// process group (a helper holding its output open dies too).
class real_agent : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("vcube-fence-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string script(const std::string& name, const std::string& body) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0700);
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(real_agent, reads_stdin_and_exits) {
  auto path = script("echo", "cat >&2\nexit 2\n");
  auto r = run_agent_process(path, "ip=x\naction=status\n", 10s);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err, "ip=x\naction=status\n");
}

TEST_F(real_agent, timeout_kills_the_process_group) {
  auto pid_file = (dir_ / "helper.pid").string();
  auto path = script("hang", "sleep 30 &\necho $! > " + pid_file + "\nwait\n");
  auto started = std::chrono::steady_clock::now();
  auto r = run_agent_process(path, "action=off\n", 500ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  std::string helper;
  std::ifstream(pid_file) >> helper;
  ASSERT_FALSE(helper.empty());
  // Killed: gone, or a zombie until its new parent reaps it.
  auto is_alive = [&] {
    std::string stat;
    std::getline(std::ifstream("/proc/" + helper + "/stat"), stat);
    auto state = stat.find(") ");
    return state != std::string::npos && stat[state + 2] != 'Z';
  };
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (is_alive() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(is_alive()) << "helper " << helper << " survived";
}

TEST_F(real_agent, missing_agent_is_not_found) {
  auto r = run_agent_process((dir_ / "fence_none").string(), "", 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::not_found);
}

}  // namespace
}  // namespace vcube::fence
