// The NBD server over a real unix socket with a hand-written client: normal
// requests, and hostile ones that must cost only the offending connection.
#include "esan/nbd_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "esan/file_backend.h"
#include "esan/job_thread.h"
#include "esan/nbd_request.h"
#include "esan/tests/raw_client.h"

namespace vcube::esan {
namespace {

using namespace nbd;
using namespace nbd::testing;

// A backend whose writes finish on its own thread, newest first (so replies
// go out of order and from a thread that is not the server's), and which
// declines every third write (that one takes the pool).
class deferred_backend final : public backend {
 public:
  explicit deferred_backend(std::unique_ptr<file_backend> file) : file_(std::move(file)) {}
  uint64_t size_bytes() const override { return file_->size_bytes(); }
  bool is_read_only() const override { return false; }
  status read(uint64_t offset, std::span<std::byte> out) override {
    return file_->read(offset, out);
  }
  status write(uint64_t offset, std::span<const std::byte> data, bool is_fua) override {
    return file_->write(offset, data, is_fua);
  }
  bool start_write(uint64_t offset, std::span<const std::byte> data, bool is_fua, write_done& done,
                   const blocking_runner&) override {
    std::lock_guard lock(mutex_);
    if (++calls_ % 3 == 0)
      return false;
    queued_.push_back({offset, data, is_fua, std::move(done)});
    finisher_.post([this] { finish_queued(); });
    return true;
  }
  status flush() override { return file_->flush(); }
  status trim(uint64_t offset, uint64_t length, bool is_fua) override {
    return file_->trim(offset, length, is_fua);
  }
  status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) override {
    return file_->write_zeroes(offset, length, may_punch, is_fua);
  }

 private:
  struct queued_write {
    uint64_t offset;
    std::span<const std::byte> data;
    bool is_fua;
    write_done done;
  };
  void finish_queued() {
    std::vector<queued_write> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(queued_);
    }
    for (auto it = batch.rbegin(); it != batch.rend(); ++it)
      it->done(file_->write(it->offset, it->data, it->is_fua));
  }

  std::unique_ptr<file_backend> file_;
  std::mutex mutex_;
  std::vector<queued_write> queued_;
  uint64_t calls_ = 0;
  job_thread finisher_;  // last: its jobs use the fields above
};

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

// Writes a backend finishes on its own thread (backend::start_write): every
// reply arrives once, whole, out of order among the others, and the data is
// there; a client that leaves with such writes in flight costs nothing.
TEST_F(NbdServer, WritesFinishedOnAnotherThreadAreRepliedOnceEach) {
  std::string other = dir + "/deferred.img";
  std::ofstream(other).close();
  std::filesystem::resize_file(other, 1 << 20);
  auto file = file_backend::open(other, false);
  ASSERT_TRUE(file);
  ASSERT_TRUE(server->add_export("deferred", std::make_shared<deferred_backend>(std::move(*file))));
  raw_client c(sock);
  ASSERT_TRUE(c.go("deferred"));
  std::string wire;
  for (uint64_t i = 0; i < 64; ++i) {
    wire +=
        req(command::write, i * 4096, 4096, 0, 1000 + i) + std::string(4096, char('a' + i % 26));
    if (i % 8 == 7)  // a read between them: its reply comes from the loop
      wire += req(command::read, 0, 512, 0, 2000 + i);
  }
  ASSERT_TRUE(c.send(wire));
  std::set<uint64_t> cookies;
  for (int n = 0; n < 64 + 8; ++n) {
    auto header = c.receive(16);
    ASSERT_TRUE(header) << "reply " << n;
    ASSERT_EQ(get_u32(bytes_of(*header), 0), magic_simple_reply);
    EXPECT_EQ(get_u32(bytes_of(*header), 4), 0u);
    const uint64_t cookie = get_u64(bytes_of(*header), 8);
    EXPECT_TRUE(cookies.insert(cookie).second) << "cookie " << cookie << " twice";
    if (cookie >= 2000) {
      ASSERT_TRUE(c.receive(512));
    }
  }
  EXPECT_EQ(cookies.size(), 72u);
  for (uint64_t i = 0; i < 64; i += 9) {
    std::string data;
    EXPECT_EQ(c.simple(req(command::read, i * 4096, 4096), &data, 4096), 0u);
    EXPECT_EQ(data, std::string(4096, char('a' + i % 26)));
  }
  {
    raw_client leaving(sock);
    ASSERT_TRUE(leaving.go("deferred"));
    std::string burst;
    for (uint64_t i = 0; i < 16; ++i)
      burst += req(command::write, i * 4096, 4096, 0, i) + std::string(4096, 'z');
    ASSERT_TRUE(leaving.send(burst));
  }  // gone without reading a reply
  std::string data;
  EXPECT_EQ(c.simple(req(command::read, 0, 512), &data, 512), 0u);
  expect_other_clients_served();
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
