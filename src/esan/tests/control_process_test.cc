// Two vcube-esand processes on this host driven only through their control
// sockets, as vcubed drives them, with qemu-io and qemu-img doing the I/O:
// replication, roles, split brain and its resolution, grow, verify, an
// initial full sync and a restart that restores the volume from --state.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/json.h"
#include "env/files.h"
#include "env/process.h"
#include "esan/tests/esand_process.h"
#include "esan/tests/raw_client.h"

namespace vcube::esan {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::esand_process;
using testing::free_port;
using testing::has_tool;
using testing::wait_until;

constexpr uint64_t volume_bytes = 16 << 20;
constexpr uint64_t region = 65536;

std::string text_of(const fs::path& p) {
  auto t = env::read_file(p.string());
  return t ? *t : "";
}

class ControlProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_tool("qemu-io") || !has_tool("qemu-img"))
      GTEST_SKIP() << "qemu-io or qemu-img is not installed (Debian: qemu-utils)";
    dir_ = fs::temp_directory_path() / ("vcube-control-proc-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = free_port();
    a_ = start("a");
    b_ = start("b");
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (HasFailure())
      for (const char* side : {"a", "b"})
        std::cerr << "---- " << side << ".log\n" << text_of(path(side, "log"));
    if (!dir_.empty())
      fs::remove_all(dir_);
  }

  std::string path(const std::string& side, const std::string& what) {
    return (dir_ / (side + "." + what)).string();
  }
  std::unique_ptr<esand_process> start(const std::string& side) {
    std::vector<std::string> args = {"--control",         path(side, "ctl"), "--state",
                                     path(side, "state"), "--unix",          path(side, "sock")};
    args.insert(args.end(), extra_args_[side].begin(), extra_args_[side].end());
    auto p = std::make_unique<esand_process>(std::move(args), path(side, "log"), wrapper_[side]);
    EXPECT_TRUE(testing::wait_for_socket(path(side, "ctl"), 10s)) << text_of(path(side, "log"));
    return p;
  }

  // One request on a fresh control connection; the parsed reply.
  json ctl(const std::string& side, const json& request) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path(side, "ctl").c_str(), sizeof(addr.sun_path) - 1);
    timeval limit{.tv_sec = 60, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    std::string line = request.dump() + "\n", reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == ssize_t(line.size())) {
      char c;
      while (::recv(fd, &c, 1, 0) == 1 && c != '\n')
        reply.push_back(c);
    }
    ::close(fd);
    auto parsed = parse_json(reply);
    return parsed ? *parsed : json{{"ok", false}, {"error", "no reply: " + reply}};
  }
  json ok(const std::string& side, const json& request) {
    json reply = ctl(side, request);
    EXPECT_EQ(reply["ok"], true) << side << " " << request.dump() << " → " << reply.dump();
    return reply;
  }
  json status(const std::string& side) {
    json reply = ctl(side, {{"op", "status"}, {"name", "d"}});
    return reply["ok"] == true ? reply["volumes"][0] : json::object();
  }

  void create(const std::string& side, uint64_t generation, bool is_primary,
              uint64_t size = volume_bytes) {
    ok(side, {{"op", "create"},
              {"name", "d"},
              {"data", path(side, "data")},
              {"meta", path(side, "meta")},
              {"size", size},
              {"generation", generation},
              {"primary", is_primary}});
  }
  json attach_request(const std::string& side, const std::string& port) {
    json r = {{"op", "attach"},
              {"name", "d"},
              {"data", path(side, "data")},
              {"meta", path(side, "meta")}};
    r[side == "a" ? "listen" : "peer"] = listen_address_ + ":" + port;
    return r;
  }
  void attach(const std::string& side, const std::string& port) {
    ok(side, attach_request(side, port));
  }
  bool is_connected(const std::string& side) { return status(side)["connected"] == true; }
  void connect_both() {
    attach("a", port_);
    attach("b", port_);
    ASSERT_TRUE(wait_until([&] { return is_connected("a") && is_connected("b"); }))
        << status("a").dump() << status("b").dump();
  }

  void qemu_io(const std::string& side, const std::vector<std::string>& commands) {
    std::vector<std::string> argv = {"qemu-io", "-f", "raw"};
    for (const auto& c : commands) {
      argv.push_back("-c");
      argv.push_back(c);
    }
    argv.push_back("nbd+unix:///d?socket=" + path(side, "sock"));
    auto r = env::run(argv, {}, 60s);
    ASSERT_TRUE(r && r->exit_code == 0) << (r ? r->out + r->err : r.err().message);
    ASSERT_EQ(r->out.find("failed"), std::string::npos) << r->out;
  }
  std::string data(const std::string& side) { return text_of(path(side, "data")); }

  fs::path dir_;
  std::string port_;
  std::unique_ptr<esand_process> a_, b_;
  std::map<std::string, std::vector<std::string>> wrapper_;     // side → command prefix
  std::map<std::string, std::vector<std::string>> extra_args_;  // side → more esand flags
  std::string listen_address_ = "127.0.0.1";                    // where a listens
};

// Diskless attach: a and b hold the volume and serve it over TCP to nodes
// that prove the key; c holds no copy and serves it to its qemu-io from
// whichever of the two is primary.
class DisklessProcesses : public ControlProcesses {
 protected:
  void SetUp() override {
    key_ = fs::temp_directory_path() / ("vcube-diskless-key-" + std::to_string(getpid()));
    std::ofstream(key_) << "a key the three esand share, at least 16 bytes";
    nbd_port_ = {{"a", free_port()}, {"b", free_port()}};
    for (const char* side : {"a", "b", "c"})
      extra_args_[side] = {"--secret-file", key_.string()};
    for (const char* side : {"a", "b"}) {
      extra_args_[side].push_back("--tcp");
      extra_args_[side].push_back("127.0.0.1:" + nbd_port_[side]);
    }
    ControlProcesses::SetUp();
  }
  void TearDown() override {
    c_.reset();
    if (HasFailure())
      std::cerr << "---- c.log\n" << text_of(path("c", "log"));
    ControlProcesses::TearDown();
    fs::remove(key_);
  }
  json remote_status() {
    json reply = ctl("c", {{"op", "status"}});
    return reply.value("remotes", json::array()).empty() ? json::object() : reply["remotes"][0];
  }

  fs::path key_;
  std::map<std::string, std::string> nbd_port_;
  std::unique_ptr<esand_process> c_;
};

TEST_F(DisklessProcesses, ARemoteVolumeFollowsThePrimaryAndSurvivesARestart) {
  create("a", 5, true);
  create("b", 5, false);
  connect_both();
  c_ = start("c");
  json remote = {{"op", "attach_remote"},
                 {"name", "d"},
                 {"size", volume_bytes},
                 {"servers", {"127.0.0.1:" + nbd_port_["a"], "127.0.0.1:" + nbd_port_["b"]}}};
  ok("c", remote);
  ok("c", remote);  // the same again: ok
  json grown = remote;
  grown["size"] = 2 * volume_bytes;
  EXPECT_EQ(ctl("c", grown)["code"], "conflict");
  EXPECT_EQ(ctl("c", {{"op", "promote"}, {"name", "d"}})["code"], "conflict");

  qemu_io("c", {"write -P 0x61 0 1M", "flush"});
  EXPECT_EQ(data("a").substr(0, 1 << 20), std::string(1 << 20, '\x61'));
  EXPECT_EQ(data("b").substr(0, 1 << 20), std::string(1 << 20, '\x61'));
  EXPECT_EQ(remote_status()["server"], "127.0.0.1:" + nbd_port_["a"]) << remote_status().dump();
  EXPECT_EQ(remote_status()["connected"], true);
  // A plain NBD client gets nothing from the authenticated port.
  auto plain = env::run({"qemu-img", "info", "nbd://127.0.0.1:" + nbd_port_["a"] + "/d"}, {}, 30s);
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->exit_code, 0) << plain->out;

  // The primary dies: c's writes wait until b is promoted, then go to b.
  a_->kill_now();
  ASSERT_TRUE(wait_until([&] { return !is_connected("b"); })) << status("b").dump();
  std::thread writer([&] { qemu_io("c", {"write -P 0x62 1M 1M", "flush"}); });
  EXPECT_TRUE(wait_until([&] {
    return remote_status().value("message", "").find("no server takes d") != std::string::npos;
  })) << remote_status().dump();
  ok("b", {{"op", "promote"}, {"name", "d"}});
  writer.join();
  EXPECT_EQ(data("b").substr(1 << 20, 1 << 20), std::string(1 << 20, '\x62'));
  EXPECT_EQ(data("b").substr(0, 1 << 20), std::string(1 << 20, '\x61'));
  EXPECT_EQ(remote_status()["server"], "127.0.0.1:" + nbd_port_["b"]) << remote_status().dump();

  // Restarted, c restores the remote volume from its state file.
  c_.reset();
  c_ = start("c");
  qemu_io("c", {"read -P 0x62 1M 1M", "read -P 0x61 0 1M"});
  ok("c", {{"op", "detach"}, {"name", "d"}});
  EXPECT_TRUE(remote_status().empty());
}

TEST_F(ControlProcesses, ReplicatesRefusesPromotionSplitsAndResolves) {
  create("a", 5, true);
  create("b", 5, false);
  connect_both();
  EXPECT_EQ(status("a")["resynced_bytes"], 0) << "the same generation: nothing to copy";
  attach("a", port_);  // the same attach again: ok
  json other = attach_request("a", free_port());
  EXPECT_EQ(ctl("a", other)["code"], "conflict");

  qemu_io("a", {"write -P 0xab 0 1M", "flush"});
  EXPECT_EQ(data("b").substr(0, 1 << 20), std::string(1 << 20, '\xab'));
  EXPECT_EQ(status("b")["peer_role"], "primary");
  json refused = ctl("b", {{"op", "promote"}, {"name", "d"}});
  EXPECT_EQ(refused["code"], "conflict") << refused.dump();

  ok("a", {{"op", "detach"}, {"name", "d"}});
  ok("b", {{"op", "detach"}, {"name", "d"}});
  EXPECT_EQ(ctl("b", {{"op", "detach"}, {"name", "d"}})["code"], "not_found");
  // Apart: a listens where b does not dial, b dials where nobody listens.
  attach("a", port_);
  attach("b", free_port());
  ok("b", {{"op", "promote"}, {"name", "d"}});  // the failover case
  qemu_io("a", {"write -P 0x11 0 64k"});
  qemu_io("b", {"write -P 0x22 4M 64k"});
  ok("b", {{"op", "detach"}, {"name", "d"}});
  attach("b", port_);
  ASSERT_TRUE(wait_until([&] {
    return status("a")["disk_state"] == "SplitBrain" && status("b")["disk_state"] == "SplitBrain";
  })) << status("a").dump()
      << status("b").dump();
  std::string a = data("a"), b = data("b");
  EXPECT_EQ(a.substr(0, region), std::string(region, '\x11'));
  EXPECT_EQ(b.substr(0, region), std::string(region, '\xab')) << "nothing merged";
  EXPECT_EQ(b.substr(4 << 20, region), std::string(region, '\x22'));
  EXPECT_EQ(a.substr(4 << 20, region), std::string(region, '\0'));

  EXPECT_EQ(ctl("a", {{"op", "resolve"}, {"name", "x"}, {"discard", true}})["code"], "not_found");
  ok("b", {{"op", "resolve"}, {"name", "d"}, {"discard", true}});
  ASSERT_TRUE(wait_until([&] {
    json s = status("b");
    return s["connected"] == true && s["disk_state"] == "UpToDate";
  })) << status("b").dump();
  EXPECT_EQ(data("a"), data("b"));
  EXPECT_EQ(status("b")["role"], "secondary");
  EXPECT_EQ(status("a")["generation"], status("b")["generation"]);
}

TEST_F(ControlProcesses, GrowsBothSidesAndVerifies) {
  create("a", 5, true);
  create("b", 5, false);
  connect_both();
  qemu_io("a", {"write -P 0x5a 0 2M"});
  EXPECT_EQ(ctl("a", {{"op", "resize"}, {"name", "d"}, {"size", volume_bytes / 2}})["code"],
            "invalid_input");
  ok("a", {{"op", "resize"}, {"name", "d"}, {"size", 2 * volume_bytes}});
  ASSERT_TRUE(wait_until([&] {
    return status("a")["message"].get<std::string>().find("size mismatch: grow both") !=
           std::string::npos;
  })) << status("a").dump();
  EXPECT_FALSE(is_connected("b"));
  ok("b", {{"op", "resize"}, {"name", "d"}, {"size", 2 * volume_bytes}});
  ASSERT_TRUE(wait_until([&] { return is_connected("a") && is_connected("b"); }))
      << status("a").dump();
  EXPECT_EQ(status("a")["resynced_bytes"], 0) << "the new space is zeroes on both sides";
  auto info =
      env::run({"qemu-img", "info", "--output=json", "nbd+unix:///d?socket=" + path("a", "sock")});
  ASSERT_TRUE(info && info->exit_code == 0);
  auto parsed = parse_json(info->out);
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)["virtual-size"], 2 * volume_bytes);
  EXPECT_EQ(status("b")["size"], 2 * volume_bytes);

  ok("a", {{"op", "verify"}, {"name", "d"}});
  ASSERT_TRUE(wait_until([&] { return status("a")["verify"]["state"] == "done"; }));
  EXPECT_EQ(status("a")["verify"]["differing_regions"], 0);
  EXPECT_EQ(status("a")["verify"]["percent"], 100);
  {  // behind the secondary's back
    std::fstream f(path("b", "data"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3 * region + 100);
    f.write("rot", 3);
  }
  ok("a", {{"op", "verify"}, {"name", "d"}});
  ASSERT_TRUE(wait_until([&] { return status("a")["verify"]["state"] == "done"; }));
  json v = status("a")["verify"];
  EXPECT_EQ(v["differing_regions"], 1) << v.dump();
  EXPECT_EQ(v["differing_bytes"], region);
  EXPECT_EQ(v["first_differences"], json::array({3 * region}));
}

TEST_F(ControlProcesses, AnInitialFullSyncCopiesExistingData) {
  {  // existing data on a, imported with its generation
    std::ofstream f(path("a", "data"), std::ios::binary);
    for (uint64_t at = 0; at < volume_bytes; at += 4096)
      f << std::string(4096, char('A' + at / 4096 % 26));
  }
  create("a", 9, true);
  create("b", 0, false);
  EXPECT_EQ(status("a").size(), 0u);  // created, not attached
  connect_both();
  ASSERT_TRUE(wait_until([&] { return status("b")["disk_state"] == "UpToDate"; }))
      << status("b").dump();
  EXPECT_EQ(data("a"), data("b"));
  json s = status("a");
  EXPECT_EQ(s["percent"], 100);
  EXPECT_EQ(s["resynced_bytes"], volume_bytes);
  EXPECT_EQ(s["out_of_sync_bytes"], 0);
  EXPECT_EQ(s["peer_disk_state"], "UpToDate");
  ok("a", {{"op", "rate"}, {"name", "d"}, {"bytes_per_second", 1 << 20}});
  EXPECT_EQ(status("a")["rate"], 1 << 20);
  EXPECT_NE(text_of(path("a", "state")).find("1048576"), std::string::npos);
}

TEST_F(ControlProcesses, ARestartRestoresTheVolumeAndItsRole) {
  create("a", 5, true);
  create("b", 5, false);
  connect_both();
  a_.reset();  // SIGTERM
  ASSERT_TRUE(wait_until([&] { return !is_connected("b"); }));
  a_ = start("a");
  ASSERT_TRUE(wait_until([&] { return is_connected("a") && is_connected("b"); }))
      << text_of(path("a", "log"));
  EXPECT_EQ(status("a")["role"], "primary");
  EXPECT_EQ(status("b")["role"], "secondary");
  qemu_io("a", {"write -P 0x77 0 64k"});
  EXPECT_EQ(data("b").substr(0, region), std::string(region, '\x77'));
  // Detached volumes are not restored; their files go with delete.
  ok("b", {{"op", "detach"}, {"name", "d"}});
  EXPECT_EQ(ctl("a", {{"op", "delete"},
                      {"name", "d"},
                      {"data", path("a", "data")},
                      {"meta", path("a", "meta")}})["code"],
            "conflict");
  b_.reset();
  b_ = start("b");
  EXPECT_EQ(ctl("b", {{"op", "status"}})["volumes"].size(), 0u);
  ok("b",
     {{"op", "delete"}, {"name", "d"}, {"data", path("b", "data")}, {"meta", path("b", "meta")}});
  EXPECT_FALSE(fs::exists(path("b", "meta")));
  EXPECT_FALSE(fs::exists(path("b", "data")));
}

// SIGKILL of the primary during a stream of writes: some may be on its file
// only. Restarted from --state, it resyncs its activity log's extents to
// the peer, and the two files end byte-identical.
TEST_F(ControlProcesses, AKilledPrimaryResyncsItsActiveExtentsWhenItReturns) {
  using namespace nbd;
  using nbd::testing::req;
  create("a", 5, true);
  create("b", 5, false);
  connect_both();
  nbd::testing::raw_client c(path("a", "sock"));
  ASSERT_TRUE(c.go("d"));
  std::atomic<int64_t> acknowledged{-1};
  std::thread writer([&] {
    for (int64_t i = 0; i < 4000; ++i) {
      // Spread over the volume: several extents are active at the kill.
      uint64_t at = uint64_t(i) * 4096 * 97 % volume_bytes / 4096 * 4096;
      if (!c.send(req(command::write, at, 4096)))
        return;
      auto answer = c.simple(std::string(4096, static_cast<char>('A' + i % 26)));
      if (!answer || *answer != 0)
        return;
      acknowledged = i;
    }
  });
  ASSERT_TRUE(wait_until([&] { return acknowledged.load() >= 200; }));
  a_->kill_now();
  writer.join();
  ASSERT_TRUE(wait_until([&] { return !is_connected("b"); }));
  a_ = start("a");
  ASSERT_TRUE(wait_until([&] {
    json s = status("a");
    return s["connected"] == true && s["disk_state"] == "UpToDate" && s["out_of_sync_bytes"] == 0;
  })) << status("a").dump()
      << text_of(path("a", "log"));
  EXPECT_NE(text_of(path("a", "log")).find("not closed cleanly"), std::string::npos);
  EXPECT_GT(status("a")["resynced_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(data("a"), data("b"));
}

TEST_F(ControlProcesses, AVolumeWhoseFilesAreGoneIsLeftOutAtStartupTheOthersComeUp) {
  create("a", 5, true);
  attach("a", port_);
  json e = {{"op", "create"},
            {"name", "e"},
            {"data", path("a", "e.data")},
            {"meta", path("a", "e.meta")},
            {"size", 1 << 20},
            {"generation", 5},
            {"primary", true}};
  ok("a", e);
  ok("a", {{"op", "attach"},
           {"name", "e"},
           {"data", path("a", "e.data")},
           {"meta", path("a", "e.meta")},
           {"listen", "127.0.0.1:" + free_port()}});
  EXPECT_EQ(ctl("a", {{"op", "status"}})["volumes"].size(), 2u);
  a_.reset();
  fs::remove(path("a", "e.meta"));
  a_ = start("a");
  json all = ctl("a", {{"op", "status"}});
  ASSERT_EQ(all["volumes"].size(), 1u) << all.dump();
  EXPECT_EQ(all["volumes"][0]["name"], "d");
  EXPECT_EQ(all["volumes"][0]["role"], "primary");
  EXPECT_NE(text_of(path("a", "log")).find("volume e not restored"), std::string::npos);
  EXPECT_NE(text_of(path("a", "state")).find("e.meta"), std::string::npos);  // kept
  ok("a", {{"op", "detach"}, {"name", "e"}});                                // forgets it
  EXPECT_EQ(text_of(path("a", "state")).find("e.meta"), std::string::npos);
}

TEST_F(ControlProcesses, DetachIsRefusedWhileAnNbdClientIsConnectedUnlessForced) {
  using nbd::testing::req;
  create("a", 5, true);
  attach("a", port_);
  nbd::testing::raw_client c(path("a", "sock"));
  ASSERT_TRUE(c.go("d"));
  ASSERT_TRUE(wait_until([&] { return status("a")["nbd_clients"] == 1; })) << status("a").dump();
  json refused = ctl("a", {{"op", "detach"}, {"name", "d"}});
  EXPECT_EQ(refused["code"], "conflict") << refused.dump();
  ok("a", {{"op", "detach"}, {"name", "d"}, {"force", true}});
  std::string data;
  EXPECT_FALSE(c.simple(req(nbd::command::read, 0, 512), &data, 512).has_value());  // closed
  attach("a", port_);  // and back at once
  EXPECT_EQ(status("a")["nbd_clients"], 0);
}

TEST_F(ControlProcesses, AnOversizedLineIsRefusedAndClosed) {
  json reply = ctl("a", {{"op", "status"}, {"name", std::string(70000, 'x')}});
  EXPECT_EQ(reply["ok"], false);
  EXPECT_EQ(reply["code"], "invalid_input");
  EXPECT_EQ(ctl("a", {{"op", "status"}})["ok"], true);  // the daemon serves on
}

// The same two esand, each in its own network namespace, joined by a veth
// pair like two lab nodes: the faults of the lab tests are real
// (SIGKILL, a link taken down), the I/O comes from qemu-io and a raw NBD client.
class NetnsProcesses : public ControlProcesses {
 protected:
  void SetUp() override {
    if (geteuid() != 0 || !has_tool("ip"))
      GTEST_SKIP() << "needs root and iproute2 (network namespaces)";
    std::string id = std::to_string(getpid() % 100000);
    for (const char* side : {"a", "b"}) {
      ns_[side] = "vcb-esan-" + id + side;
      veth_[side] = "vcbe" + id + side;
      wrapper_[side] = {"ip", "netns", "exec", ns_[side]};
      ASSERT_TRUE(sh({"ip", "netns", "add", ns_[side]}));
    }
    ASSERT_TRUE(sh({"ip", "link", "add", veth_["a"], "netns", ns_["a"], "type", "veth", "peer",
                    "name", veth_["b"], "netns", ns_["b"]}));
    for (const auto& [side, address] : {std::pair{"a", "10.251.0.1/24"}, {"b", "10.251.0.2/24"}}) {
      ASSERT_TRUE(sh({"ip", "-n", ns_[side], "addr", "add", address, "dev", veth_[side]}));
      ASSERT_TRUE(sh({"ip", "-n", ns_[side], "link", "set", veth_[side], "up"}));
      ASSERT_TRUE(sh({"ip", "-n", ns_[side], "link", "set", "lo", "up"}));
    }
    listen_address_ = "10.251.0.1";
    ControlProcesses::SetUp();
    create("a", 5, true);
    create("b", 5, false);
    connect_both();
  }
  void TearDown() override {
    ControlProcesses::TearDown();
    for (const auto& [side, ns] : ns_)
      (void)sh({"ip", "netns", "del", ns});
  }
  static bool sh(const std::vector<std::string>& argv) {
    auto r = env::run(argv);
    EXPECT_TRUE(r && r->exit_code == 0)
        << argv[0] << " " << argv[1] << ": " << (r ? r->err : r.err().message);
    return r && r->exit_code == 0;
  }
  // b's side of the link down or up: a partition between the two.
  void cut(bool is_cut) {
    (void)sh({"ip", "-n", ns_["b"], "link", "set", veth_["b"], is_cut ? "down" : "up"});
  }

  std::map<std::string, std::string> ns_, veth_;
};

TEST_F(NetnsProcesses, RandomWritesWhileThePeerIsDownResyncExactlyTheChangedRegions) {
  b_->kill_now();
  ASSERT_TRUE(wait_until([&] { return !is_connected("a"); })) << status("a").dump();
  std::mt19937_64 random(20261202);
  std::set<uint64_t> regions;
  std::vector<std::string> writes;
  for (int i = 0; i < 40; ++i) {
    uint64_t offset = random() % (volume_bytes / 4096) * 4096;
    uint64_t length = 4096 * (1 + random() % 8);
    length = std::min(length, volume_bytes - offset);
    for (uint64_t r = offset / region; r <= (offset + length - 1) / region; ++r)
      regions.insert(r);
    writes.push_back("write -P " + std::to_string(1 + i % 250) + " " + std::to_string(offset) +
                     " " + std::to_string(length));
  }
  qemu_io("a", writes);
  EXPECT_NE(data("a"), data("b"));
  b_ = start("b");  // restores its volume from --state
  ASSERT_TRUE(wait_until([&] {
    json sa = status("a"), sb = status("b");
    return sa["connected"] == true && sa["disk_state"] == "UpToDate" &&
           sb["disk_state"] == "UpToDate";
  })) << status("a").dump()
      << status("b").dump();
  EXPECT_EQ(status("a")["resynced_bytes"], regions.size() * region)
      << "exactly the " << regions.size() << " written regions are copied";
  EXPECT_EQ(data("a"), data("b"));
}

TEST_F(NetnsProcesses, EveryWriteTheKilledPrimaryAcknowledgedIsOnThePeer) {
  nbd::testing::raw_client c(path("a", "sock"));
  ASSERT_TRUE(c.go("d"));
  std::atomic<int64_t> acknowledged{-1};
  std::thread writer([&] { nbd::testing::stream_fua_writes(c, 3000, acknowledged); });
  ASSERT_TRUE(wait_until([&] { return acknowledged.load() >= 100; }));
  a_->kill_now();
  writer.join();
  std::string peer = data("b");
  for (int64_t i = 0; i <= acknowledged.load(); ++i)
    ASSERT_EQ(peer.substr(uint64_t(i) * 4096, 4096), nbd::testing::stream_block(i))
        << "acknowledged write " << i << " of " << acknowledged.load() << " is missing on the peer";
}

// A partition, then each side promoted and written: when the link returns,
// both refuse each other and say SplitBrain; nothing is merged until the
// operator discards one side.
TEST_F(NetnsProcesses, APartitionAndPromotionOnBothSidesIsASplitBrainNothingMerged) {
  qemu_io("a", {"write -P 0xab 0 1M"});
  EXPECT_EQ(data("b").substr(0, 1 << 20), std::string(1 << 20, '\xab'));
  cut(true);
  // Both notice the silence (no FIN crosses a dead link): the keepalive.
  ASSERT_TRUE(wait_until([&] { return !is_connected("a") && !is_connected("b"); }))
      << status("a").dump() << status("b").dump();
  qemu_io("a", {"write -P 0x11 0 64k"});
  ok("b", {{"op", "promote"}, {"name", "d"}});
  qemu_io("b", {"write -P 0x22 4M 64k"});
  cut(false);
  ASSERT_TRUE(wait_until([&] {
    return status("a")["disk_state"] == "SplitBrain" && status("b")["disk_state"] == "SplitBrain";
  })) << status("a").dump()
      << status("b").dump();
  EXPECT_NE(status("a")["message"].get<std::string>().find("split brain"), std::string::npos)
      << status("a").dump();
  std::string a = data("a"), b = data("b");
  EXPECT_EQ(a.substr(0, region), std::string(region, '\x11'));
  EXPECT_EQ(b.substr(0, region), std::string(region, '\xab')) << "nothing merged";
  EXPECT_EQ(b.substr(4 << 20, region), std::string(region, '\x22'));
  EXPECT_EQ(a.substr(4 << 20, region), std::string(region, '\0'));
  EXPECT_FALSE(is_connected("a"));
  // The operator keeps a's data.
  ok("b", {{"op", "resolve"}, {"name", "d"}, {"discard", true}});
  ASSERT_TRUE(wait_until([&] {
    json sb = status("b");
    return sb["connected"] == true && sb["disk_state"] == "UpToDate";
  })) << status("b").dump();
  EXPECT_EQ(data("a"), data("b"));
  EXPECT_EQ(status("b")["role"], "secondary");
}

// A diskless client in b's namespace (esand c, serving qemu-io on its unix
// socket) uses a's TCP port; then the link dies without a FIN, as when a
// node loses power. a must drop the dead client by itself (TCP keepalive),
// or it would count it for ever and never give up its primary.
class NetnsDiskless : public NetnsProcesses {
 protected:
  void SetUp() override {
    extra_args_["a"] = {"--tcp", "10.251.0.1:10809"};
    NetnsProcesses::SetUp();
  }
  void TearDown() override {
    c_.reset();
    if (HasFailure())
      std::cerr << "---- c.log\n" << text_of(path("c", "log"));
    NetnsProcesses::TearDown();
  }
  std::unique_ptr<esand_process> c_;
};

TEST_F(NetnsDiskless, AServerDropsAClientWhoseLinkDiedWithoutAWord) {
  wrapper_["c"] = wrapper_["b"];
  c_ = start("c");
  ok("c", {{"op", "attach_remote"},
           {"name", "d"},
           {"size", volume_bytes},
           {"servers", {"10.251.0.1:10809"}}});
  qemu_io("c", {"write -P 0x33 0 64k"});
  EXPECT_EQ(data("a").substr(0, region), std::string(region, '\x33'));
  // c keeps its connection for the next request.
  ASSERT_TRUE(wait_until([&] { return status("a")["nbd_clients"] == 1; })) << status("a").dump();
  cut(true);
  EXPECT_TRUE(wait_until([&] { return status("a")["nbd_clients"] == 0; }, 30s))
      << status("a").dump();
}

}  // namespace
}  // namespace vcube::esan
