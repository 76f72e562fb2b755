// The NBD server over a real unix socket with a hand-written client: normal
// requests, and hostile ones that must cost only the offending connection.
#include "esan/nbd_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "esan/file_backend.h"
#include "esan/nbd_request.h"
#include "esan/tests/raw_client.h"

namespace vcube::esan {
namespace {

using namespace nbd;
using namespace nbd::testing;

class NbdServer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir);
    std::ofstream(image).close();
    std::filesystem::resize_file(image, 1 << 20);
    auto b = file_backend::open(image, false);
    ASSERT_TRUE(b) << b.err().message;
    server_limits limits;
    limits.connection.handshake_timeout_ms = std::chrono::milliseconds(300);
    limits.connection.in_flight_requests_max = 4;
    limits.io_threads = 2;
    server = std::make_unique<nbd_server>(io, export_map{{"disk", std::move(*b)}}, limits);
    ASSERT_TRUE(server->listen_unix(sock));
    loop = std::thread([this] { io.run(); });
  }
  void TearDown() override {
    asio::post(io, [this] { server->stop(); });
    loop.join();  // returns once the listeners and connections are gone
    server.reset();
    std::filesystem::remove_all(dir);
  }

  // A second, well-behaved client still gets served.
  void expect_other_clients_served() {
    raw_client good(sock);
    ASSERT_TRUE(good.go("disk"));
    std::string data;
    EXPECT_EQ(good.simple(req(command::read, 0, 512), &data, 512), 0u);
    EXPECT_EQ(data.size(), 512u);
  }

  std::string dir = "/tmp/vcube-esan-server-" + std::to_string(::getpid());
  std::string image = dir + "/disk.img";
  std::string sock = dir + "/nbd.sock";
  asio::io_context io;
  std::unique_ptr<nbd_server> server;
  std::thread loop;
};

TEST_F(NbdServer, WriteReadFlushTrimZero) {
  raw_client c(sock);
  ASSERT_TRUE(c.go("disk"));
  ASSERT_TRUE(c.send(req(command::write, 4096, 4096, cmd_flag_fua)));
  EXPECT_EQ(c.simple(std::string(4096, 'x')), 0u);
  std::string data;
  EXPECT_EQ(c.simple(req(command::read, 4096, 4096), &data, 4096), 0u);
  EXPECT_EQ(data, std::string(4096, 'x'));
  EXPECT_EQ(c.simple(req(command::flush, 0, 0)), 0u);
  EXPECT_EQ(c.simple(req(command::write_zeroes, 4096, 1024)), 0u);
  EXPECT_EQ(c.simple(req(command::trim, 65536, 65536)), 0u);
  EXPECT_EQ(c.simple(req(command::read, 4096, 1024), &data, 1024), 0u);
  EXPECT_EQ(data, std::string(1024, '\0'));
}

TEST_F(NbdServer, StructuredReadIsOneDataChunk) {
  raw_client c(sock);
  ASSERT_TRUE(c.go("disk", true));
  ASSERT_TRUE(c.send(req(command::read, 512, 512, 0, 7)));
  auto out = c.receive(20 + 8 + 512);
  ASSERT_TRUE(out);
  EXPECT_EQ(get_u32(bytes_of(*out), 0), magic_structured_reply);
  EXPECT_EQ(get_u16(bytes_of(*out), 4), reply_flag_done);
  EXPECT_EQ(get_u64(bytes_of(*out), 8), 7u);
  EXPECT_EQ(get_u64(bytes_of(*out), 20), 512u);
}

TEST_F(NbdServer, BadRequestsGetErrorsAndTheConnectionGoesOn) {
  raw_client c(sock);
  ASSERT_TRUE(c.go("disk"));
  EXPECT_EQ(c.simple(req(command::read, 1 << 20, 512)), 22u);  // past the end
  EXPECT_EQ(c.simple(req(command::read, 1, 512)), 22u);        // unaligned
  EXPECT_EQ(c.simple(req(command::block_status, 0, 512)), 22u);
  ASSERT_TRUE(c.send(req(command::write, (1 << 20) - 512, 1024)));
  EXPECT_EQ(c.simple(std::string(1024, 'y')), 28u);  // ENOSPC; payload was skipped
  std::string data;
  EXPECT_EQ(c.simple(req(command::read, 0, 512), &data, 512), 0u);
}

TEST_F(NbdServer, GarbageHandshakeClosesOnlyThatConnection) {
  raw_client bad(sock);
  ASSERT_TRUE(bad.receive(18));
  ASSERT_TRUE(bad.send(std::string(64, '\xff')));
  EXPECT_TRUE(bad.is_closed_by_server());
  expect_other_clients_served();
}

TEST_F(NbdServer, OversizeWriteClosesOnlyThatConnection) {
  raw_client bad(sock);
  ASSERT_TRUE(bad.go("disk"));
  ASSERT_TRUE(bad.send(req(command::write, 0, 0xfffffe00)));
  EXPECT_TRUE(bad.is_closed_by_server());
  expect_other_clients_served();
}

TEST_F(NbdServer, BadRequestMagicClosesOnlyThatConnection) {
  raw_client bad(sock);
  ASSERT_TRUE(bad.go("disk"));
  ASSERT_TRUE(bad.send(std::string(28, 'G')));
  EXPECT_TRUE(bad.is_closed_by_server());
  expect_other_clients_served();
}

TEST_F(NbdServer, SilentClientIsCutOffAfterTheHandshakeDeadline) {
  raw_client idle(sock);
  ASSERT_TRUE(idle.receive(18));
  EXPECT_TRUE(idle.is_closed_by_server(std::chrono::seconds(5)));
  expect_other_clients_served();
}

TEST_F(NbdServer, PipelinedRequestsBeyondTheInFlightLimitAllComplete) {
  raw_client c(sock);
  ASSERT_TRUE(c.go("disk"));
  std::string wire;
  for (uint64_t i = 0; i < 64; ++i)
    wire += req(command::write, i * 4096, 4096, 0, i) + std::string(4096, char('a' + i % 26));
  ASSERT_TRUE(c.send(wire));
  auto replies = c.receive(64 * 16);
  ASSERT_TRUE(replies);
  for (size_t i = 0; i < 64; ++i)
    EXPECT_EQ(get_u32(bytes_of(*replies), i * 16 + 4), 0u);
  std::string data;
  EXPECT_EQ(c.simple(req(command::read, 63 * 4096, 4096), &data, 4096), 0u);
  EXPECT_EQ(data, std::string(4096, char('a' + 63 % 26)));
}

TEST_F(NbdServer, DiscClosesCleanly) {
  raw_client c(sock);
  ASSERT_TRUE(c.go("disk"));
  ASSERT_TRUE(c.send(req(command::disc, 0, 0)));
  EXPECT_TRUE(c.is_closed_by_server());
}

TEST_F(NbdServer, ExportsComeAndGoAtRuntimeClosingOnlyTheirConnections) {
  std::string second = dir + "/second.img";
  std::ofstream(second).close();
  std::filesystem::resize_file(second, 1 << 20);
  auto b = file_backend::open(second, false);
  ASSERT_TRUE(b);
  ASSERT_TRUE(server->add_export("second", std::move(*b)));  // from another thread
  EXPECT_FALSE(server->add_export("disk", nullptr));         // the name is taken
  raw_client on_second(sock), on_disk(sock);
  ASSERT_TRUE(on_second.go("second"));
  ASSERT_TRUE(on_disk.go("disk"));
  std::string data;
  EXPECT_EQ(on_second.simple(req(command::read, 0, 512), &data, 512), 0u);
  auto counted = server->client_count("second");
  ASSERT_TRUE(counted);
  EXPECT_EQ(*counted, 1u);
  ASSERT_TRUE(server->remove_export("second"));
  EXPECT_FALSE(server->remove_export("second"));
  // Its connection is closed; the other export's is not.
  EXPECT_FALSE(on_second.simple(req(command::read, 0, 512), &data, 512).has_value());
  EXPECT_EQ(on_disk.simple(req(command::read, 0, 512), &data, 512), 0u);
  raw_client late(sock);
  EXPECT_FALSE(late.go("second"));
}

}  // namespace
}  // namespace vcube::esan
