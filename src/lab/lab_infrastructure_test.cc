// The lab's host side for real: bridge, namespaces, mounts, faults, teardown.
// Needs root and network namespaces; skips otherwise. Uses the real lab names,
// so it refuses to run (skips) while another lab exists.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "env/files.h"
#include "env/process.h"
#include "lab/host_probe.h"
#include "lab/lab.h"
#include "lab/lab_preflight.h"
#include "lab/vm_segment.h"

namespace vcube::lab {
namespace {

using namespace std::chrono_literals;

// Waits for `condition` until `deadline`; true when it became true.
template <class F>
bool wait_until(F condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

bool has_program(const std::string& name) {
  auto r = env::run({"sh", "-c", "command -v " + name}, {}, 5s);
  return r && r->exit_code == 0;
}

// Whether node `from` reaches `address`: ping when the host has it, otherwise
// a TCP connect to a closed port, where "refused" means the peer answered.
bool reachable(int from, const std::string& address) {
  if (has_program("ping"))
    return lab_exec(from, {"ping", "-c1", "-W2", address}) == 0;
  std::string script = "out=$( (exec 3<>/dev/tcp/" + address +
                       "/9) 2>&1 ); case \"$out\" in *refused*) exit 0;; esac; exit 1";
  return lab_exec(from, {"timeout", "3", "bash", "-c", script}) == 0;
}

bool is_gone(int pid) {
  auto stat = env::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat)
    return true;
  auto close_paren = stat->rfind(')');
  return close_paren != std::string::npos && stat->substr(close_paren + 2, 1) == "Z";
}

int spawn_sleep_in(int node) {
  auto argv = node_command_prefix(node);
  argv.insert(argv.end(), {"sleep", "1000"});
  auto pid = env::spawn_detached(argv);
  EXPECT_TRUE(pid.ok());
  int p = pid.ok() ? *pid : -1;
  // nsenter enters the namespaces and then execs sleep in the same process.
  EXPECT_TRUE(wait_until([&] { return process_name(p) == "sleep"; }, 5s));
  return p;
}

void expect_nothing_left() {
  EXPECT_TRUE(list_lab_netns().empty());
  EXPECT_TRUE(list_lab_links().empty());
  EXPECT_TRUE(mounts_under(run_dir).empty());
  EXPECT_TRUE(mounts_under(data_dir).empty());
  EXPECT_FALSE(env::file_exists(run_dir));
  EXPECT_FALSE(env::file_exists(data_dir));
}

lab_options options(int nodes, const std::string& subnet = "10.231.77.0/24") {
  lab_options o;
  o.nodes = nodes;
  o.subnet = subnet;
  return o;
}

class lab_infrastructure : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root (network namespaces, links, mounts)";
    auto probe = env::run({"unshare", "--net", "--mount", "true"}, {}, 10s);
    if (!probe || probe->exit_code != 0)
      GTEST_SKIP() << "network/mount namespaces are not available here (unshare --net --mount "
                      "failed)";
    if (!check_no_lab())
      GTEST_SKIP() << "a lab already exists on this host; this test would destroy it ("
                   << check_no_lab().err().message << ")";
    created_ = true;
  }
  void TearDown() override {
    if (created_) {
      auto down = lab_down();
      EXPECT_TRUE(down.ok()) << down.err().message;
    }
  }
  bool created_ = false;
};

TEST_F(lab_infrastructure, nodes_talk_over_the_bridge_and_keep_their_own_files) {
  auto built = lab_create_infrastructure(options(3));
  ASSERT_TRUE(built.ok()) << built.err().message;
  auto state = read_lab_state();
  ASSERT_TRUE(state.ok()) << state.err().message;
  EXPECT_EQ(state->node_addresses[1], "10.231.77.12");
  EXPECT_EQ(state->admin_password.size(), 24u);
  EXPECT_EQ(parse_lab_node("n3").value(), 3);
  EXPECT_FALSE(parse_lab_node("n4").ok());
  EXPECT_EQ(std::filesystem::status(password_file).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  EXPECT_TRUE(reachable(1, "10.231.77.12"));
  EXPECT_TRUE(reachable(3, "10.231.77.1"));  // the host, over the bridge
  EXPECT_NE(lab_exec(1, {"sh", "-c", "ip route | grep -q default"}), 0);

  ASSERT_EQ(lab_exec(1, {"sh", "-c", "echo n1 > /etc/vcube/lab-test-marker"}), 0);
  EXPECT_TRUE(env::file_exists(node_data_dir(1) + "/etc-vcube/lab-test-marker"));
  EXPECT_FALSE(env::file_exists("/etc/vcube/lab-test-marker"));
  EXPECT_EQ(lab_exec(2, {"test", "-e", "/etc/vcube/lab-test-marker"}), 1);
  EXPECT_EQ(lab_exec(2, {"test", "-d", "/run/vcube"}), 0);
  EXPECT_EQ(lab_exec(2, {"sh", "-c",
                         "for d in /etc/vcube /var/lib/vcube /etc/corosync /var/lib/corosync "
                         "/var/log/corosync /var/log/vcube /run /dev/shm; do "
                         "mountpoint -q $d || exit 1; done"}),
            0);
  EXPECT_EQ(lab_exec(2, {"test", "-e", "/run/vcube-lab"}), 1);  // tmpfs on /run
  EXPECT_EQ(lab_exec(2, {"sh", "-c", "exit 7"}), 7);
}

std::string master_of(const std::string& link) {
  auto r = env::run({"ip", "-o", "link", "show", "dev", link}, {}, 5s);
  if (!r || r->exit_code != 0)
    return "";
  auto at = r->out.find(" master ");
  return at == std::string::npos ? "" : r->out.substr(at + 8, r->out.find(' ', at + 8) - at - 8);
}

// What a node's vswitch does with vmup is the vswitch's own test; here the
// segment itself: guests' addresses (given to vmup by hand) reach each other
// and the host across nodes, with no route, forwarding or firewall rule.
TEST_F(lab_infrastructure, nodes_share_the_vm_segment_with_the_host) {
  auto built = lab_create_infrastructure(options(2));
  ASSERT_TRUE(built.ok()) << built.err().message;
  EXPECT_TRUE(is_link_up(vm_bridge_name));
  for (int k : {1, 2}) {
    EXPECT_EQ(master_of(vm_veth_name(k)), vm_bridge_name);
    EXPECT_EQ(lab_exec(k, {"ip", "link", "show", "dev", "vmup", "up"}), 0);
    ASSERT_EQ(lab_exec(k, {"ip", "addr", "add", "10.231.78.2" + std::to_string(k) + "/24", "dev",
                           "vmup"}),
              0);
  }
  EXPECT_TRUE(reachable(1, vm_host_address));
  EXPECT_TRUE(reachable(1, "10.231.78.22"));
  EXPECT_TRUE(reachable(2, "10.231.78.21"));
  EXPECT_NE(lab_exec(1, {"sh", "-c", "ip route | grep -q default"}), 0);
  std::ostringstream status;
  ASSERT_TRUE(lab_status(status).ok());
  EXPECT_NE(status.str().find("VM segment: 10.231.78.0/24, bridge vcube-lab-vm0 up"),
            std::string::npos)
      << status.str();
  ASSERT_TRUE(lab_down().ok());
  expect_nothing_left();
}

TEST_F(lab_infrastructure, partition_cuts_a_node_off_and_heal_restores_it) {
  auto built = lab_create_infrastructure(options(2));
  ASSERT_TRUE(built.ok()) << built.err().message;
  ASSERT_TRUE(reachable(1, "10.231.77.12"));
  ASSERT_TRUE(lab_partition(2).ok());
  EXPECT_FALSE(reachable(1, "10.231.77.12"));
  std::ostringstream status;
  ASSERT_TRUE(lab_status(status).ok());
  EXPECT_NE(status.str().find("link partitioned"), std::string::npos) << status.str();
  ASSERT_TRUE(lab_heal(std::nullopt).ok());
  EXPECT_TRUE(wait_until([] { return reachable(1, "10.231.77.12"); }, 15s));
}

TEST_F(lab_infrastructure, kill_ends_every_process_of_one_node_only) {
  auto built = lab_create_infrastructure(options(2));
  ASSERT_TRUE(built.ok()) << built.err().message;
  int on_node_2 = spawn_sleep_in(2);
  int on_node_1 = spawn_sleep_in(1);
  auto pids = pids_in_namespace("/run/netns/" + netns_name(2), "net");
  EXPECT_NE(std::find(pids.begin(), pids.end(), on_node_2), pids.end());
  std::ostringstream status;
  ASSERT_TRUE(lab_status(status).ok());
  EXPECT_NE(status.str().find("sleep[" + std::to_string(on_node_2) + "]"), std::string::npos)
      << status.str();

  ASSERT_TRUE(lab_kill(2).ok());
  EXPECT_TRUE(wait_until([&] { return is_gone(on_node_2); }, 5s));
  EXPECT_FALSE(is_gone(on_node_1));
  ASSERT_TRUE(lab_down().ok());
  EXPECT_TRUE(wait_until([&] { return is_gone(on_node_1); }, 5s));
  expect_nothing_left();
  EXPECT_TRUE(lab_down().ok());  // idempotent
}

TEST_F(lab_infrastructure, down_cleans_up_after_a_crash_without_state) {
  auto built = lab_create_infrastructure(options(3));
  ASSERT_TRUE(built.ok()) << built.err().message;
  int pid = spawn_sleep_in(3);
  ASSERT_EQ(unlink(state_file), 0);
  std::ostringstream status;
  ASSERT_TRUE(lab_status(status).ok());
  EXPECT_NE(status.str().find("vcube-lab-n3"), std::string::npos) << status.str();
  auto down = lab_down();
  EXPECT_TRUE(down.ok()) << down.err().message;
  EXPECT_TRUE(wait_until([&] { return is_gone(pid); }, 5s));
  expect_nothing_left();
}

TEST_F(lab_infrastructure, refuses_a_second_lab_and_a_busy_subnet) {
  auto busy = lab_create_infrastructure(options(3, "127.0.0.0/24"));
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.err().message.find("--subnet"), std::string::npos) << busy.err().message;
  EXPECT_FALSE(env::file_exists(run_dir));

  auto on_vm_segment = lab_create_infrastructure(options(2, "10.231.78.0/24"));
  ASSERT_FALSE(on_vm_segment.ok());
  EXPECT_NE(on_vm_segment.err().message.find("VM segment"), std::string::npos)
      << on_vm_segment.err().message;

  ASSERT_TRUE(lab_create_infrastructure(options(2)).ok());
  auto again = lab_create_infrastructure(options(2, "10.231.79.0/24"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.err().code, errc::conflict);
}

}  // namespace
}  // namespace vcube::lab
