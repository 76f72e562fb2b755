// remote_backend against real esand NBD servers in this process, over TCP
// on the loopback: authentication, the refusal of a secondary, and the
// retry that carries a request over to the other server.
#include "esan/remote_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "esan/file_backend.h"
#include "esan/nbd_server.h"

namespace vcube::esan {
namespace {

const std::string key = "the cluster's esan key for tests";
constexpr uint64_t size = 1 << 20;

// A backend that is a file, and primary or not as the test says.
class switchable : public backend {
 public:
  explicit switchable(std::unique_ptr<file_backend> f) : file_(std::move(f)) {}
  uint64_t size_bytes() const override { return file_->size_bytes(); }
  bool is_read_only() const override { return false; }
  bool may_serve_remotely() const override { return is_primary; }
  status read(uint64_t offset, std::span<std::byte> out) override {
    return file_->read(offset, out);
  }
  status write(uint64_t offset, std::span<const std::byte> data, bool is_fua) override {
    if (!is_primary)
      return make_error(errc::forbidden, "secondary");
    return file_->write(offset, data, is_fua);
  }
  status flush() override { return file_->flush(); }
  status trim(uint64_t offset, uint64_t length, bool is_fua) override {
    return file_->trim(offset, length, is_fua);
  }
  status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) override {
    return file_->write_zeroes(offset, length, may_punch, is_fua);
  }
  std::atomic<bool> is_primary = true;

 private:
  std::unique_ptr<file_backend> file_;
};

// One esand NBD server on 127.0.0.1 with export "vol".
struct server_fixture {
  server_fixture(const std::string& image, const std::string& auth_key) {
    std::ofstream(image).close();
    std::filesystem::resize_file(image, size);
    auto f = file_backend::open(image, false);
    EXPECT_TRUE(f);
    volume = std::make_shared<switchable>(std::move(*f));
    server = std::make_unique<nbd_server>(io, export_map{{"vol", volume}});
    server->set_auth_key(auth_key);
    auto bound = server->listen_tcp("127.0.0.1", 0);
    EXPECT_TRUE(bound);
    port = bound ? *bound : 0;
    loop = std::thread([this] { io.run(); });
  }
  ~server_fixture() { stop(); }
  void stop() {
    if (!loop.joinable())
      return;
    asio::post(io, [this] { server->stop(); });
    loop.join();
  }
  tcp_endpoint endpoint() const { return {"127.0.0.1", port}; }

  asio::io_context io;
  std::shared_ptr<switchable> volume;
  std::unique_ptr<nbd_server> server;
  uint16_t port = 0;
  std::thread loop;
};

class RemoteBackend : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::shared_ptr<remote_backend> remote(
      std::vector<tcp_endpoint> servers, std::string auth_key = key,
      std::chrono::milliseconds retry = std::chrono::seconds(10)) {
    nbd_client_options options;
    options.auth_key = std::move(auth_key);
    options.connect_timeout_ms = std::chrono::milliseconds(500);
    remote_limits limits;
    limits.retry_ms_max = retry;
    limits.backoff_ms_max = std::chrono::milliseconds(100);
    return std::make_shared<remote_backend>(remote_config{"vol", size, std::move(servers)}, options,
                                            limits);
  }

  std::string dir = "/tmp/vcube-esan-remote-" + std::to_string(::getpid());
};

bool wait_for(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition
  }
  return true;
}

std::vector<std::byte> block(char c, size_t n = 4096) {
  return std::vector<std::byte>(n, std::byte(c));
}

TEST_F(RemoteBackend, WritesAndReadsThroughTheServer) {
  server_fixture a(dir + "/a.img", key);
  auto r = remote({a.endpoint()});
  ASSERT_TRUE(r->write(8192, block('w'), true));
  ASSERT_TRUE(r->write_zeroes(0, 4096, false, false));
  ASSERT_TRUE(r->trim(65536, 4096, false));
  ASSERT_TRUE(r->flush());
  auto out = block('?');
  ASSERT_TRUE(r->read(8192, out));
  EXPECT_EQ(out, block('w'));
  EXPECT_TRUE(r->status_now().is_connected);
  // It is on the server's file.
  auto back = block('?');
  ASSERT_TRUE(a.volume->read(8192, back));
  EXPECT_EQ(back, block('w'));
}

TEST_F(RemoteBackend, AWrongKeyGetsNothing) {
  server_fixture a(dir + "/a.img", key);
  auto r = remote({a.endpoint()}, "not the cluster's key at all", std::chrono::milliseconds(300));
  auto out = block('?');
  auto read = r->read(0, out);
  ASSERT_FALSE(read);
  EXPECT_NE(r->status_now().message.find("key"), std::string::npos) << r->status_now().message;
  EXPECT_FALSE(r->status_now().is_connected);
}

TEST_F(RemoteBackend, AnOpenServerIsRefusedWhenWeHaveAKey) {
  server_fixture a(dir + "/a.img", "");  // no authentication: not a cluster member's esand
  auto r = remote({a.endpoint()}, key, std::chrono::milliseconds(300));
  EXPECT_FALSE(r->write(0, block('x'), false));
  auto back = block('?');
  ASSERT_TRUE(a.volume->read(0, back));
  EXPECT_EQ(back, block('\0'));
}

TEST_F(RemoteBackend, ASecondaryIsNotUsed) {
  server_fixture a(dir + "/a.img", key);
  server_fixture b(dir + "/b.img", key);
  a.volume->is_primary = false;
  auto r = remote({a.endpoint(), b.endpoint()});  // a first: it is asked, and refuses
  ASSERT_TRUE(r->write(0, block('b'), true));
  EXPECT_EQ(r->status_now().server, "127.0.0.1:" + std::to_string(b.port));
  auto on_a = block('?');
  ASSERT_TRUE(a.volume->read(0, on_a));
  EXPECT_EQ(on_a, block('\0'));
}

TEST_F(RemoteBackend, ARequestMovesToTheOtherServerWhenItsServerGoes) {
  server_fixture a(dir + "/a.img", key);
  server_fixture b(dir + "/b.img", key);
  b.volume->is_primary = false;
  auto r = remote({a.endpoint(), b.endpoint()});
  ASSERT_TRUE(r->write(0, block('1'), true));
  a.stop();  // the serving node dies
  std::atomic<bool> is_done = false;
  std::thread writer([&] {
    EXPECT_TRUE(r->write(4096, block('2'), true));
    is_done = true;
  });
  // The write waits: no server is primary. Then the other one is promoted.
  ASSERT_TRUE(wait_for([&] {
    return r->status_now().message.find("no server takes vol") != std::string::npos;
  })) << r->status_now().message;
  EXPECT_FALSE(is_done) << "written with no primary anywhere";
  b.volume->is_primary = true;
  writer.join();
  auto on_b = block('?');
  ASSERT_TRUE(b.volume->read(4096, on_b));
  EXPECT_EQ(on_b, block('2'));
  EXPECT_EQ(r->status_now().server, "127.0.0.1:" + std::to_string(b.port));
}

TEST_F(RemoteBackend, AServerDemotedUnderUsIsLeft) {
  server_fixture a(dir + "/a.img", key);
  server_fixture b(dir + "/b.img", key);
  b.volume->is_primary = false;
  auto r = remote({a.endpoint(), b.endpoint()});
  ASSERT_TRUE(r->write(0, block('1'), true));
  a.volume->is_primary = false;  // EPERM on the open connection
  b.volume->is_primary = true;
  ASSERT_TRUE(r->write(0, block('2'), true));
  auto on_b = block('?');
  ASSERT_TRUE(b.volume->read(0, on_b));
  EXPECT_EQ(on_b, block('2'));
}

TEST_F(RemoteBackend, StopEndsAWaitingRequest) {
  auto r = remote({{"127.0.0.1", 1}}, key, std::chrono::seconds(60));
  std::atomic<bool> is_done = false;
  std::thread reader([&] {
    auto out = block('?');
    EXPECT_FALSE(r->read(0, out));
    is_done = true;
  });
  // It waits for a server (port 1 refuses) until stopped.
  ASSERT_TRUE(wait_for([&] { return !r->status_now().message.empty(); }));
  EXPECT_FALSE(is_done);
  r->stop();
  EXPECT_TRUE(wait_for([&] { return is_done.load(); }));
  reader.join();
}

}  // namespace
}  // namespace vcube::esan
