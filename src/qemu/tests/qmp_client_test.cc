// qmp_client against a scripted QMP server on a unix socket in this process.
#include "qemu/qmp_client.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "qemu/tests/qmp_fixtures.h"
#include "qemu/tests/run_coroutine.h"

namespace vcube::qemu {
namespace {

using local = asio::local::stream_protocol;
using testing::run_coroutine;

auto with_ec(boost::system::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

std::string reply_line(uint64_t id, const json& value) {
  return json{{"return", value}, {"id", id}}.dump() + "\r\n";
}

// Answers the script: "echo" returns its arguments, "ping" first sends an
// event then replies, "hold" is answered only with the next command (out of
// order), "silent" never, "bye" closes the connection.
awaitable<void> serve_one(local::acceptor& acceptor) {
  boost::system::error_code ec;
  local::socket socket(acceptor.get_executor());
  co_await acceptor.async_accept(socket, with_ec(ec));
  if (ec)
    co_return;
  co_await asio::async_write(socket, asio::buffer(testing::greeting_line), with_ec(ec));
  std::string buffer;
  std::string held;
  while (!ec) {
    size_t n =
        co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n', with_ec(ec));
    if (ec)
      break;
    json command = json::parse(buffer.substr(0, n));
    buffer.erase(0, n);
    const std::string name = command["execute"];
    const uint64_t id = command["id"];
    std::string out;
    if (name == "bye")
      break;
    if (name == "silent")
      continue;
    if (name == "hold") {
      held = reply_line(id, "held");
      continue;
    }
    if (name == "ping")
      out += "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n";
    out += reply_line(id, name == "echo" ? command["arguments"] : json::object());
    out += held;
    held.clear();
    co_await asio::async_write(socket, asio::buffer(out), with_ec(ec));
  }
}

struct recorder {
  std::vector<std::string> events;
  std::vector<std::string> gone;
};

class qmp_client_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/vcube-qmp-client.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    path_ = dir_ + "/qmp.sock";
    acceptor_.emplace(io_, local::endpoint(path_));
    asio::co_spawn(io_, serve_one(*acceptor_), asio::detached);
  }
  void TearDown() override {
    acceptor_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::shared_ptr<qmp_client> connect() {
    qmp_client_handlers handlers;
    handlers.on_event = [this](const qmp_event& e) { seen_.events.push_back(e.name); };
    handlers.on_gone = [this](const error& e) { seen_.gone.push_back(e.message); };
    auto client = run_coroutine(
        io_, qmp_client::connect(path_, qmp_clock::now() + std::chrono::seconds(5), handlers));
    EXPECT_TRUE(client.ok()) << client.err().message;
    return client.ok() ? *client : nullptr;
  }

  result<json> execute(qmp_client& client, const char* name, json arguments = json::object(),
                       std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    return run_coroutine(io_, client.execute(name, std::move(arguments), qmp_clock::now() + limit));
  }

  asio::io_context io_;
  std::string dir_;
  std::string path_;
  std::optional<local::acceptor> acceptor_;
  recorder seen_;
};

TEST_F(qmp_client_test, negotiates_and_executes) {
  auto client = connect();
  ASSERT_TRUE(client);
  EXPECT_EQ(client->greeting().major, 7);
  auto reply = execute(*client, "echo", json{{"a", 1}});
  ASSERT_TRUE(reply.ok()) << reply.err().message;
  EXPECT_EQ(*reply, (json{{"a", 1}}));
  client->close();
}

TEST_F(qmp_client_test, delivers_events_before_the_reply_that_follows_them) {
  auto client = connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(execute(*client, "ping").ok());
  EXPECT_EQ(seen_.events, std::vector<std::string>{"STOP"});
  client->close();
}

TEST_F(qmp_client_test, times_out_and_keeps_working) {
  auto client = connect();
  ASSERT_TRUE(client);
  auto reply = execute(*client, "silent", json::object(), std::chrono::milliseconds(50));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.err().code, errc::timeout);
  EXPECT_TRUE(execute(*client, "echo", json{{"b", 2}}).ok());
  client->close();
}

TEST_F(qmp_client_test, eof_fails_pending_commands_as_gone) {
  auto client = connect();
  ASSERT_TRUE(client);
  auto reply = execute(*client, "bye");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.err().code, errc::unavailable);
  EXPECT_NE(reply.err().message.find("QEMU is gone"), std::string::npos) << reply.err().message;
  EXPECT_EQ(seen_.gone.size(), 1u);
  EXPECT_FALSE(client->is_open());
  auto later = execute(*client, "echo");
  EXPECT_EQ(later.err().code, errc::unavailable);
}

// Two commands in flight: "hold" is answered after "echo" (out of order).
awaitable<void> execute_into(std::shared_ptr<qmp_client> client, std::string name,
                             std::optional<result<json>>* out) {
  json arguments = {{"n", name}};  // GCC 12 rejects a braced list inside co_await
  auto reply =
      co_await client->execute(name, arguments, qmp_clock::now() + std::chrono::seconds(5));
  out->emplace(std::move(reply));
}

TEST_F(qmp_client_test, matches_out_of_order_replies_by_id) {
  auto client = connect();
  ASSERT_TRUE(client);
  std::optional<result<json>> held, echoed;
  asio::co_spawn(io_, execute_into(client, std::string("hold"), &held), asio::detached);
  asio::co_spawn(io_, execute_into(client, std::string("echo"), &echoed), asio::detached);
  const auto deadline = qmp_clock::now() + std::chrono::seconds(5);
  while (!(held && echoed) && qmp_clock::now() < deadline)
    io_.run_one_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(held && echoed);
  ASSERT_TRUE(held->ok() && echoed->ok());
  EXPECT_EQ(held->value(), "held");
  EXPECT_EQ(echoed->value(), (json{{"n", "echo"}}));
  client->close();
}

TEST_F(qmp_client_test, close_fails_pending_commands_without_calling_on_gone) {
  auto client = connect();
  ASSERT_TRUE(client);
  std::optional<result<json>> silent;
  asio::co_spawn(io_, execute_into(client, std::string("silent"), &silent), asio::detached);
  io_.poll();
  client->close();
  const auto deadline = qmp_clock::now() + std::chrono::seconds(5);
  while (!silent && qmp_clock::now() < deadline)
    io_.run_one_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(silent);
  ASSERT_FALSE(silent->ok());
  EXPECT_EQ(silent->err().code, errc::unavailable);
  EXPECT_TRUE(seen_.gone.empty());
}

TEST_F(qmp_client_test, no_socket_is_unavailable) {
  auto client = run_coroutine(
      io_,
      qmp_client::connect(dir_ + "/absent.sock", qmp_clock::now() + std::chrono::seconds(1), {}));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.err().code, errc::unavailable);
}

TEST_F(qmp_client_test, silent_server_times_out_negotiation) {
  local::acceptor mute(io_, local::endpoint(dir_ + "/mute.sock"));  // accepts in the backlog only
  auto client = run_coroutine(
      io_, qmp_client::connect(dir_ + "/mute.sock",
                               qmp_clock::now() + std::chrono::milliseconds(100), {}));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.err().code, errc::timeout);
}

}  // namespace
}  // namespace vcube::qemu
