// A real corosync, one node, in a private network and mount namespace: the
// link connects, sees itself, gets its own message back and quorum, and
// survives `kill -9 corosync` without losing what was sent meanwhile.
// Needs root and `ip netns`; skips otherwise. The host's /etc/corosync is
// never touched: the child process bind-mounts temporary directories over it.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sstream>

#include "cluster/corosync_conf.h"
#include "cluster/corosync_link.h"
#include "cluster/corosync_service.h"
#include "env/files.h"
#include "env/process.h"

namespace vcube::cluster {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr unsigned child_deadline_s = 120;

// Runs the io_context until `is_done` or `timeout`; true when done.
bool run_until(asio::io_context& io, const std::function<bool()>& is_done,
               std::chrono::milliseconds timeout) {
  auto guard = asio::make_work_guard(io);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!is_done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    io.run_one_until(deadline);
  }
  return true;
}

std::string describe(const status& s) {
  return s ? std::string("ok") : s.err().message;
}

class corosync_lab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root (network and mount namespaces)";
    netns_ = "vct-cs-" + std::to_string(getpid());
    auto added = env::run({"ip", "netns", "add", netns_}, {}, 10s);
    if (!added || added->exit_code != 0) {
      netns_.clear();
      GTEST_SKIP() << "`ip netns add` failed: " << (added ? added->err : added.err().message);
    }
    auto lo = env::run_checked({"ip", "-n", netns_, "link", "set", "lo", "up"}, {}, 10s);
    ASSERT_TRUE(lo.ok()) << lo.err().message;
    char dir[] = "/tmp/vct-cs-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    for (const char* sub : {"etc", "lib", "log"})
      fs::create_directory(root_ / sub);
  }

  // Kills whatever still runs in the namespace (corosync, if the body
  // failed), then removes the namespace and the temporary directories.
  void TearDown() override {
    if (!netns_.empty()) {
      if (auto pids = env::run({"ip", "netns", "pids", netns_}, {}, 10s)) {
        std::istringstream in(pids->out);
        for (int pid = 0; in >> pid;)
          kill(pid, SIGKILL);
      }
      (void)env::run({"ip", "netns", "del", netns_}, {}, 10s);
    }
    if (!root_.empty()) {
      std::error_code ec;
      fs::remove_all(root_, ec);
    }
  }

  // Runs `body` in a child inside the namespaces; the child's gtest failures
  // print as usual and come back as its exit code.
  void run_in_namespaces(const std::function<void()>& body) {
    fflush(stdout);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(child_deadline_s);  // a hung child dies instead of hanging the suite
      if (enter_namespaces())
        body();
      fflush(stdout);
      _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    ASSERT_TRUE(WIFEXITED(wstatus))
        << "the test child was killed by signal " << WTERMSIG(wstatus)
        << (WTERMSIG(wstatus) == SIGALRM ? " (its deadline passed)" : "");
    EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "the test body failed in the child (see above)";
  }

 private:
  bool bind(const fs::path& from, const char* to) {
    bool is_ok = mount(from.c_str(), to, nullptr, MS_BIND, nullptr) == 0;
    EXPECT_TRUE(is_ok) << "bind mount " << from << " on " << to << ": " << strerror(errno);
    return is_ok;
  }

  bool mount_tmpfs(const char* on) {
    bool is_ok = mount("tmpfs", on, "tmpfs", 0, "mode=1777") == 0;
    EXPECT_TRUE(is_ok) << "tmpfs on " << on << ": " << strerror(errno);
    return is_ok;
  }

  // In the child: private mounts over corosync's directories, then the netns.
  bool enter_namespaces() {
    int netns_fd = open(("/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(netns_fd, 0) << "open netns: " << strerror(errno);
    bool is_ok = netns_fd >= 0 && unshare(CLONE_NEWNS) == 0 &&
                 mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    EXPECT_TRUE(is_ok) << "private mount namespace: " << strerror(errno);
    is_ok = is_ok && bind(root_ / "etc", "/etc/corosync") &&
            bind(root_ / "lib", "/var/lib/corosync") && bind(root_ / "log", "/var/log/corosync") &&
            mount_tmpfs("/run") && mount_tmpfs("/dev/shm");
    if (is_ok && setns(netns_fd, CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "setns: " << strerror(errno);
      is_ok = false;
    }
    if (netns_fd >= 0)
      close(netns_fd);
    return is_ok;
  }

  std::string netns_;
  fs::path root_;
};

// What the link reported, in order.
struct recorder {
  std::vector<bool> connections;
  std::vector<std::pair<uint32_t, std::string>> messages;
  std::vector<std::vector<member>> memberships;
  std::vector<quorum_info> quorums;

  corosync_callbacks callbacks() {
    return {
        [this](const std::vector<member>& m) { memberships.push_back(m); },
        [this](uint32_t from, std::string_view p) { messages.emplace_back(from, std::string(p)); },
        [this](const quorum_info& q) { quorums.push_back(q); },
        [this](bool is_connected) { connections.push_back(is_connected); },
    };
  }
};

int corosync_pid() {
  auto text = env::read_file("/run/corosync.pid");
  return text ? std::atoi(text->c_str()) : 0;
}

void start_single_node_corosync() {
  corosync_config config{"vct-cs", 1, {{1, "vct-node1", "127.0.0.1"}}, 3000};
  ASSERT_TRUE(validate_corosync_config(config).ok());
  auto written = write_corosync_files(render_corosync_conf(config), generate_authkey());
  ASSERT_TRUE(written.ok()) << written.err().message;
  struct stat conf {
  }, key{};
  ASSERT_EQ(stat("/etc/corosync/corosync.conf", &conf), 0);
  ASSERT_EQ(stat("/etc/corosync/authkey", &key), 0);
  EXPECT_EQ(conf.st_mode & 07777, 0644u);
  EXPECT_EQ(key.st_mode & 07777, 0400u);
  EXPECT_EQ(key.st_size, static_cast<off_t>(corosync_authkey_bytes));
  auto started = start_corosync(20s);
  ASSERT_TRUE(started.ok()) << describe(started);
  EXPECT_TRUE(is_corosync_running());
  auto again = start_corosync(1s);
  EXPECT_TRUE(again.ok()) << "starting a running corosync: " << describe(again);
}

// Rewrites the config with a new config_version and reloads corosync.
void check_reload() {
  corosync_config config{"vct-cs", 2, {{1, "vct-node1", "127.0.0.1"}}, 3000};
  auto key = env::read_file("/etc/corosync/authkey");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(write_corosync_files(render_corosync_conf(config), *key).ok());
  auto reloaded = reload_corosync();
  ASSERT_TRUE(reloaded.ok()) << describe(reloaded);
  auto version = env::run_checked({"corosync-cmapctl", "-g", "totem.config_version"});
  ASSERT_TRUE(version.ok()) << version.err().message;
  EXPECT_NE(version->find("= 2"), std::string::npos) << *version;
}

void check_connected_view(asio::io_context& io, corosync_link& link, recorder& r) {
  ASSERT_TRUE(run_until(
      io,
      [&] { return link.is_connected() && !link.members().empty() && link.quorum().is_quorate; },
      15s))
      << "connected=" << link.is_connected() << " members=" << link.members().size()
      << " quorate=" << link.quorum().is_quorate;
  EXPECT_EQ(r.connections, std::vector<bool>{true});
  EXPECT_EQ(link.local_node_id(), 1u);
  EXPECT_EQ(link.members(), (std::vector<member>{{1, "vct-node1", "127.0.0.1"}}));
  ASSERT_FALSE(r.memberships.empty());
  EXPECT_EQ(r.memberships.back(), link.members());
  EXPECT_EQ(link.quorum().total_votes, 1u);
  EXPECT_EQ(link.quorum().expected_votes, 1u);
  EXPECT_FALSE(link.quorum().is_two_node);
  ASSERT_FALSE(r.quorums.empty());
  EXPECT_EQ(r.quorums.back(), link.quorum());
}

void check_round_trip(asio::io_context& io, corosync_link& link, recorder& r) {
  ASSERT_TRUE(link.send("hello").ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !r.messages.empty(); }, 10s));
  EXPECT_EQ(r.messages.front(), (std::pair<uint32_t, std::string>{1, "hello"}));
  EXPECT_EQ(link.queued_messages(), 0u);
}

void check_survives_corosync_kill(asio::io_context& io, corosync_link& link, recorder& r) {
  int pid = corosync_pid();
  ASSERT_GT(pid, 0) << "no corosync pid file";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(run_until(
      io, [&] { return !link.is_connected(); }, 10s));
  EXPECT_EQ(r.connections, (std::vector<bool>{true, false}));
  EXPECT_FALSE(link.quorum().is_quorate);
  EXPECT_FALSE(r.quorums.back().is_quorate) << "loss of quorum not reported";
  EXPECT_TRUE(link.members().empty());
  for (const char* m : {"one", "two", "three"})
    ASSERT_TRUE(link.send(m).ok());
  EXPECT_EQ(link.queued_messages(), 3u);
  // Let the link fail a few reconnects while corosync is down.
  run_until(
      io, [] { return false; }, 300ms);
  EXPECT_EQ(link.queued_messages(), 3u);
  auto restarted = start_corosync(20s);
  ASSERT_TRUE(restarted.ok()) << describe(restarted);
  ASSERT_TRUE(run_until(
      io, [&] { return r.messages.size() >= 4; }, 20s))
      << "connected=" << link.is_connected() << " queued=" << link.queued_messages();
  EXPECT_EQ(r.connections, (std::vector<bool>{true, false, true}));
  std::vector<std::pair<uint32_t, std::string>> expected{
      {1, "hello"}, {1, "one"}, {1, "two"}, {1, "three"}};
  EXPECT_EQ(r.messages, expected);
  EXPECT_EQ(link.queued_messages(), 0u);
  EXPECT_TRUE(run_until(
      io, [&] { return link.quorum().is_quorate; }, 10s));
}

TEST_F(corosync_lab, link_connects_delivers_and_survives_a_corosync_kill) {
  run_in_namespaces([] {
    start_single_node_corosync();
    if (::testing::Test::HasFatalFailure())
      return;
    asio::io_context io;
    recorder r;
    corosync_link link(io, "vct-cs-test", r.callbacks());
    link.start();
    check_connected_view(io, link, r);
    if (!::testing::Test::HasFatalFailure())
      check_round_trip(io, link, r);
    if (!::testing::Test::HasFatalFailure())
      check_survives_corosync_kill(io, link, r);
    link.stop();
    size_t callbacks_seen = r.connections.size() + r.messages.size() + r.quorums.size();
    run_until(
        io, [] { return false; }, 200ms);
    EXPECT_EQ(r.connections.size() + r.messages.size() + r.quorums.size(), callbacks_seen)
        << "callbacks after stop()";
    auto stopped = stop_corosync(15s);
    EXPECT_TRUE(stopped.ok()) << describe(stopped);
  });
}

TEST_F(corosync_lab, link_waits_for_corosync_then_sends_a_burst_in_order) {
  run_in_namespaces([] {
    asio::io_context io;
    recorder r;
    auto link = std::make_unique<corosync_link>(io, "vct-cs-test", r.callbacks());
    link->start();
    ASSERT_TRUE(link->send("early").ok());
    // Let the link fail a few connects: corosync is not running yet.
    run_until(
        io, [] { return false; }, 300ms);
    EXPECT_FALSE(link->is_connected());
    EXPECT_TRUE(r.connections.empty());
    start_single_node_corosync();
    if (::testing::Test::HasFatalFailure())
      return;
    // Enough (54 MB) to make corosync push back with CS_ERR_TRY_AGAIN.
    constexpr size_t burst = 9000;
    const std::string padding(6000, 'x');
    for (size_t i = 0; i < burst; ++i)
      ASSERT_TRUE(link->send(std::to_string(i) + padding).ok());
    ASSERT_TRUE(run_until(
        io, [&] { return r.messages.size() >= burst + 1; }, 60s))
        << "got " << r.messages.size() << " messages, " << link->queued_messages() << " queued";
    EXPECT_EQ(r.connections, std::vector<bool>{true});
    EXPECT_GT(link->busy_retries(), 0u) << "corosync never pushed back; the retry path is untested";
    EXPECT_EQ(r.messages[0].second, "early");
    for (size_t i = 0; i < burst; ++i)
      ASSERT_EQ(r.messages[i + 1].second, std::to_string(i) + padding) << "out of order at " << i;
    // Stop and destroy with async operations still pending; their handlers
    // then run on freed memory unless the link guards them (ASan checks).
    link->stop();
    link.reset();
    run_until(
        io, [] { return false; }, 200ms);
    auto stopped = stop_corosync(15s);
    EXPECT_TRUE(stopped.ok()) << describe(stopped);
  });
}

TEST_F(corosync_lab, destroying_a_connected_link_leaves_nothing_behind_and_reload_works) {
  run_in_namespaces([] {
    start_single_node_corosync();
    if (::testing::Test::HasFatalFailure())
      return;
    asio::io_context io;
    recorder r;
    auto link = std::make_unique<corosync_link>(io, "vct-cs-test", r.callbacks());
    link->start();
    ASSERT_TRUE(run_until(
        io, [&] { return !link->members().empty(); }, 15s));
    ASSERT_TRUE(link->send("last words").ok());
    link.reset();  // no stop(): the destructor must do it
    run_until(
        io, [] { return false; }, 200ms);
    EXPECT_TRUE(r.messages.empty()) << "a callback ran after the link was destroyed";
    EXPECT_EQ(io.poll(), 0u) << "handlers still pending after destruction";
    check_reload();
    auto stopped = stop_corosync(15s);
    EXPECT_TRUE(stopped.ok()) << describe(stopped);
  });
}

}  // namespace
}  // namespace vcube::cluster
