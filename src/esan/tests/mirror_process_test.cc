// Two vcube-esand processes mirroring one volume over TCP on this host, with
// qemu-io writing through NBD: every acknowledged write is on the peer, a
// peer that was killed gets exactly the regions written while it was away.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

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

std::string text_of(const fs::path& p) {
  auto t = env::read_file(p.string());
  return t ? *t : "";
}

class MirrorProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env::run({"sh", "-c", "command -v qemu-io"}).ok() ||
        env::run({"sh", "-c", "command -v qemu-io"})->exit_code != 0)
      GTEST_SKIP() << "qemu-io is not installed (Debian: qemu-utils)";
    dir_ = fs::temp_directory_path() / ("vcube-mirror-proc-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    port_ = free_port();
    for (const char* side : {"a", "b"}) {
      fs::path data = dir_ / (std::string(side) + ".data");
      std::ofstream(data).close();
      fs::resize_file(data, volume_bytes);
      ASSERT_EQ(testing::create_meta((dir_ / (std::string(side) + ".meta")).string(), volume_bytes,
                                     5, side[0] == 'a'),
                "");
    }
    a_ = start("a", "listen");
    b_ = start("b", "peer");
    ASSERT_TRUE(testing::wait_for_socket(sock("a"), 10s)) << text_of(dir_ / "a.log");
    ASSERT_TRUE(wait_until([&] { return attaches("a") == 1; })) << text_of(dir_ / "a.log");
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (!dir_.empty())
      fs::remove_all(dir_);
  }
  std::string sock(const std::string& side) { return (dir_ / (side + ".sock")).string(); }
  std::unique_ptr<esand_process> start(const std::string& side, const std::string& how) {
    std::string mirror = "name=disk,data=" + (dir_ / (side + ".data")).string() +
                         ",meta=" + (dir_ / (side + ".meta")).string() + "," + how +
                         "=127.0.0.1:" + port_;
    return std::make_unique<esand_process>(
        std::vector<std::string>{"--mirror", mirror, "--unix", sock(side)},
        (dir_ / (side + ".log")).string());
  }
  size_t attaches(const std::string& side) {
    std::string log = text_of(dir_ / (side + ".log"));
    size_t n = 0;
    for (size_t at = log.find("peer attached"); at != std::string::npos;
         at = log.find("peer attached", at + 1))
      ++n;
    return n;
  }
  void qemu_io(const std::vector<std::string>& commands) {
    std::vector<std::string> argv = {"qemu-io", "-f", "raw"};
    for (const auto& c : commands) {
      argv.push_back("-c");
      argv.push_back(c);
    }
    argv.push_back("nbd+unix:///disk?socket=" + sock("a"));
    auto r = env::run(argv, {}, 60s);
    ASSERT_TRUE(r && r->exit_code == 0) << (r ? r->out + r->err : r.err().message);
    ASSERT_EQ(r->out.find("failed"), std::string::npos) << r->out;
  }
  bool same_data() { return text_of(dir_ / "a.data") == text_of(dir_ / "b.data"); }

  fs::path dir_;
  std::string port_;
  std::unique_ptr<esand_process> a_, b_;
};

TEST_F(MirrorProcesses, AcknowledgedWritesAreOnThePeerAndAMissedOutageIsResynced) {
  qemu_io({"write -P 0xab 0 1M", "write -P 0xcd 4M 64k", "write -z 8M 64k", "flush"});
  EXPECT_TRUE(same_data());  // qemu-io returned: every write was acknowledged by both

  b_->kill_now();
  ASSERT_TRUE(wait_until([&] {
    return text_of(dir_ / "a.log").find("peer detached") != std::string::npos;
  })) << text_of(dir_ / "a.log");
  // Three writes touching four 64 KiB regions while the peer is away.
  qemu_io({"write -P 0x11 8M 4k", "write -P 0x22 12M 128k", "write -P 0x33 0 512"});
  EXPECT_FALSE(same_data());

  b_ = start("b", "peer");
  ASSERT_TRUE(wait_until([&] {
    return text_of(dir_ / "a.log").find("resync done") != std::string::npos;
  })) << text_of(dir_ / "a.log");
  std::smatch m;
  std::string log = text_of(dir_ / "a.log");
  ASSERT_TRUE(std::regex_search(log, m, std::regex("resync done: ([0-9]+) bytes")));
  EXPECT_EQ(std::stoull(m[1].str()), 4u * 65536) << "only the written regions are copied";
  ASSERT_TRUE(wait_until([&] { return same_data(); }));
  // And replicating again.
  qemu_io({"write -P 0x44 2M 64k"});
  EXPECT_TRUE(same_data());
}

// The primary dies in the middle of a stream of FUA writes: every write it
// acknowledged is on the secondary (protocol C).
TEST_F(MirrorProcesses, EveryWriteTheKilledPrimaryAcknowledgedIsOnThePeer) {
  nbd::testing::raw_client c(sock("a"));
  ASSERT_TRUE(c.go("disk"));
  std::atomic<int64_t> acknowledged{-1};
  std::thread writer([&] { nbd::testing::stream_fua_writes(c, 4000, acknowledged); });
  ASSERT_TRUE(wait_until([&] { return acknowledged.load() >= 100; }));
  a_->kill_now();
  writer.join();
  int64_t last = acknowledged.load();
  std::string peer = text_of(dir_ / "b.data");
  for (int64_t i = 0; i <= last; ++i)
    ASSERT_EQ(peer.substr(uint64_t(i) * 4096, 4096), nbd::testing::stream_block(i))
        << "acknowledged write " << i << " of " << last << " is missing on the peer";
}

}  // namespace
}  // namespace vcube::esan
