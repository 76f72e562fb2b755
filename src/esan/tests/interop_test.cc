// vcube-esand against NBD clients nobody here wrote: qemu-io, qemu-img,
// nbdinfo, nbdcopy. Each test skips, saying which tool is missing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/json.h"
#include "env/process.h"
#include "esan/tests/esand_process.h"

namespace vcube::esan {
namespace {

using testing::has_tool;

#define REQUIRE_TOOL(name) \
  if (!has_tool(name))     \
  GTEST_SKIP() << name << " is not installed (Debian: qemu-utils, libnbd-bin)"

void write_random_file(const std::string& path, size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string data(size, '\0');
  for (auto& c : data)
    c = static_cast<char>(random());
  std::ofstream(path, std::ios::binary) << data;
}

// Every test runs twice: "disk" is a plain file export, then a mirrored
// volume replicated to a second vcube-esand (protocol C), whose file must be
// byte-identical to the first after every test.
class Interop : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir);
    for (const auto& file : {disk, peer_disk}) {
      std::ofstream(file).close();
      std::filesystem::resize_file(file, 16 << 20);
    }
    std::ofstream(small).close();
    std::filesystem::resize_file(small, 1 << 20);
    std::vector<std::string> peer_args;
    std::vector<std::string> args = {"--export-read-only",
                                     "ro=" + small,
                                     "--unix",
                                     sock,
                                     "--tcp",
                                     "127.0.0.1:" + std::to_string(port)};
    if (is_mirrored()) {
      std::string link = "127.0.0.1:" + testing::free_port();
      ASSERT_EQ(testing::create_meta(disk + ".meta", 16 << 20, 3, true), "");
      ASSERT_EQ(testing::create_meta(peer_disk + ".meta", 16 << 20, 3, false), "");
      args.insert(args.end(), {"--mirror", "name=disk,data=" + disk + ",meta=" + disk +
                                               ".meta,listen=" + link});
      peer_args = {"--mirror",
                   "name=disk,data=" + peer_disk + ",meta=" + peer_disk + ".meta,peer=" + link,
                   "--unix", dir + "/peer.sock"};
    } else {
      args.insert(args.end(), {"--export", "disk=" + disk});
    }
    esand = std::make_unique<testing::esand_process>(args, dir + "/esand.log");
    ASSERT_TRUE(esand->is_started());
    ASSERT_TRUE(testing::wait_for_socket(sock, std::chrono::seconds(10)))
        << "vcube-esand did not come up; see " << dir << "/esand.log";
    if (is_mirrored()) {  // the peer dials the primary, which listens by now
      peer = std::make_unique<testing::esand_process>(peer_args, dir + "/peer.log");
      ASSERT_TRUE(testing::wait_until([&] {
        std::ifstream in(dir + "/esand.log");
        std::string log((std::istreambuf_iterator<char>(in)), {});
        return log.find("peer attached") != std::string::npos;
      }));
    }
  }
  void TearDown() override {
    if (is_mirrored() && !HasFatalFailure()) {
      EXPECT_EQ(sha256(disk, 16 << 20), sha256(peer_disk, 16 << 20))
          << "the mirror's two files differ after the test";
    }
    esand.reset();
    peer.reset();
    std::filesystem::remove_all(dir);
  }
  bool is_mirrored() const { return GetParam(); }

  env::process_output run(const std::vector<std::string>& argv) {
    auto r = env::run(argv, {}, std::chrono::seconds(60));
    EXPECT_TRUE(r) << (r ? "" : r.err().message);
    return r ? *r : env::process_output{};
  }
  std::string sha256(const std::string& path, size_t bytes) {
    return run({"sh", "-c", "head -c " + std::to_string(bytes) + " " + path + " | sha256sum"}).out;
  }

  std::string dir = "/tmp/vcube-esan-interop-" + std::to_string(::getpid());
  std::string disk = dir + "/disk.img";
  std::string peer_disk = dir + "/peer.img";
  std::string small = dir + "/small.img";
  std::string sock = dir + "/nbd.sock";
  uint16_t port = static_cast<uint16_t>(std::stoi(testing::free_port()));
  std::string unix_uri = "nbd+unix:///disk?socket=" + sock;
  std::string tcp_uri = "nbd://127.0.0.1:" + std::to_string(port) + "/disk";
  std::unique_ptr<testing::esand_process> esand;
  std::unique_ptr<testing::esand_process> peer;  // the mirror's other side
};

void expect_pattern_round_trip(env::process_output out) {
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_EQ(out.out.find("failed"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("read 1048576/1048576"), std::string::npos) << out.out;
}

TEST_P(Interop, QemuIoOverUnixSocket) {
  REQUIRE_TOOL("qemu-io");
  expect_pattern_round_trip(
      run({"qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M", "-c", "read -P 0xab 0 1M", "-c",
           "write -z 4M 1M", "-c", "read -P 0 4M 1M", unix_uri}));
  // a second client sees the first one's data
  expect_pattern_round_trip(
      run({"qemu-io", "-f", "raw", "-r", "-c", "read -P 0xab 0 1M", unix_uri}));
}

TEST_P(Interop, QemuIoOverTcp) {
  REQUIRE_TOOL("qemu-io");
  expect_pattern_round_trip(run({"qemu-io", "-f", "raw", "-c", "write -P 0x5c 8M 1M", "-c", "flush",
                                 "-c", "read -P 0x5c 8M 1M", tcp_uri}));
}

TEST_P(Interop, QemuIoWriteToReadOnlyExportFails) {
  REQUIRE_TOOL("qemu-io");
  auto out =
      run({"qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", "nbd+unix:///ro?socket=" + sock});
  EXPECT_NE(out.out + out.err, "");
  EXPECT_EQ(out.out.find("wrote 4096"), std::string::npos) << out.out;
}

TEST_P(Interop, QemuImgConvertInAndOutCompares) {
  REQUIRE_TOOL("qemu-img");
  const std::string source = dir + "/source.img", copy = dir + "/copy.img";
  write_random_file(source, 16 << 20, 1);
  auto in = run({"qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source, unix_uri});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  auto out = run({"qemu-img", "convert", "-f", "raw", "-O", "raw", tcp_uri, copy});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto cmp = run({"qemu-img", "compare", "-f", "raw", "-F", "raw", source, copy});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out << cmp.err;
}

TEST_P(Interop, NbdinfoReportsSizeBlockSizesAndFlags) {
  REQUIRE_TOOL("nbdinfo");
  auto out = run({"nbdinfo", "--json", unix_uri});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto parsed = parse_json(out.out);
  ASSERT_TRUE(parsed) << out.out;
  const json& e = (*parsed)["exports"][0];
  EXPECT_EQ(e["export-name"], "disk");
  EXPECT_EQ(e["export-size"], 16 << 20);
  EXPECT_EQ(e["block_size_minimum"], 512);
  EXPECT_EQ(e["block_size_preferred"], 4096);
  EXPECT_EQ(e["block_size_maximum"], 32 << 20);
  EXPECT_EQ(e["is_read_only"], false);
  for (const char* flag : {"can_flush", "can_fua", "can_trim", "can_zero", "can_multi_conn"})
    EXPECT_EQ(e[flag], true) << flag;
  EXPECT_EQ((*parsed)["structured"], true);
}

TEST_P(Interop, NbdinfoListsExportsAndSeesReadOnly) {
  REQUIRE_TOOL("nbdinfo");
  auto out = run({"nbdinfo", "--json", "--list", tcp_uri});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto parsed = parse_json(out.out);
  ASSERT_TRUE(parsed) << out.out;
  ASSERT_EQ((*parsed)["exports"].size(), 2u);
  for (const auto& e : (*parsed)["exports"])
    EXPECT_EQ(e["is_read_only"], e["export-name"] == "ro");
}

TEST_P(Interop, NbdcopyInAndOutKeepsTheChecksum) {
  REQUIRE_TOOL("nbdcopy");
  const std::string source = dir + "/source.img", copy = dir + "/copy.img";
  write_random_file(source, 16 << 20, 2);
  auto in = run({"nbdcopy", source, tcp_uri});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  auto out = run({"nbdcopy", unix_uri, copy});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(sha256(copy, 16 << 20), sha256(source, 16 << 20));
  EXPECT_EQ(sha256(disk, 16 << 20), sha256(source, 16 << 20));
}

INSTANTIATE_TEST_SUITE_P(Exports, Interop, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Mirrored" : "Plain";
                         });

}  // namespace
}  // namespace vcube::esan
