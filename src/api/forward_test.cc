#include <gtest/gtest.h>

#include "api/websocket_fixture.h"

namespace vcube::api::testing {
namespace {

const std::string console_path = "/api/v1/vms/vm1/console";

// Server a_ forwards to server b_, which relays to the fake VNC server.
class forward_test : public websocket_test {
 protected:
  void start_pair(std::string forward_target = "") {
    port_b_ = start(b_, console_config{vnc_path(), 0, "", ""});
    port_a_ = start(a_, console_config{"", port_b_, pki_.ca_pem, std::move(forward_target)});
  }
  unsigned short port_a_ = 0;
  unsigned short port_b_ = 0;
};

TEST_F(forward_test, RfbHandshakeThroughTheOtherNode) {
  fake_vnc_server vnc(vnc_path());
  start_pair();
  auto c = connect(port_a_, console_path + "?token=" + token_for("viewer"), std::nullopt);
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ((*c)->subprotocol, "binary");
  auto init = run(rfb_handshake((*c)->ws));
  ASSERT_TRUE(init.ok()) << init.err().message;
  EXPECT_EQ(init->width, 800u);
  EXPECT_EQ(init->name, "fake");
  EXPECT_EQ(vnc.accepted(), 1);
  EXPECT_EQ(b_->connection_count(), 1u);
}

TEST_F(forward_test, ClosingTheClientEndsEveryHop) {
  fake_vnc_server vnc(vnc_path());
  start_pair();
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  boost::system::error_code ec;
  (*c)->ws.close(websocket::close_code::normal, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(wait_for([&] { return vnc.ended_by_client() == 1; }));
  EXPECT_TRUE(wait_for([&] { return a_->connection_count() == 0 && b_->connection_count() == 0; }));
}

TEST_F(forward_test, VncServerClosingEndsEveryHop) {
  fake_vnc_server vnc(vnc_path(), {.close_after_init = true});
  start_pair();
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  EXPECT_FALSE(run(read_message((*c)->ws)).ok());
  EXPECT_TRUE(wait_for([&] { return a_->connection_count() == 0 && b_->connection_count() == 0; }));
}

TEST_F(forward_test, TheOtherNodesRefusalReachesTheClient) {
  fake_vnc_server vnc(vnc_path());
  start_pair("/api/v1/vms/gone/console");
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::not_found) << c.err().message;
  EXPECT_NE(c.err().message.find("no VM named gone"), std::string::npos) << c.err().message;
}

TEST_F(forward_test, NoTokenIsRefusedBeforeForwarding) {
  start_pair();
  auto c = connect(port_a_, console_path, std::nullopt);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::unauthorized);
  EXPECT_TRUE(wait_for([&] { return b_->connection_count() == 0; }));
}

TEST_F(forward_test, UnreachableNodeIs503) {
  unsigned short port_b = start(b_, console_config{vnc_path(), 0, "", ""});
  b_->stop();
  port_a_ = start(a_, console_config{"", port_b, pki_.ca_pem, ""});
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::unavailable) << c.err().message;
  EXPECT_NE(c.err().message.find("127.0.0.1:" + std::to_string(port_b)), std::string::npos)
      << c.err().message;
}

TEST_F(forward_test, NodeOfAnotherClusterIsRefused) {
  port_b_ = start(b_, console_config{vnc_path(), 0, "", ""});
  std::string other_ca = make_test_pki("other").ca_pem;
  port_a_ = start(a_, console_config{"", port_b_, other_ca, ""});
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::unavailable);
  EXPECT_NE(c.err().message.find("TLS handshake"), std::string::npos) << c.err().message;
}

TEST_F(forward_test, NoSecondHop) {
  // b_ forwards back to a_: the forwarded request must not be forwarded again.
  fake_vnc_server vnc(vnc_path());
  port_b_ = start(b_, console_config{"", 0, pki_.ca_pem, ""});
  port_a_ = start(a_, console_config{"", port_b_, pki_.ca_pem, ""});
  b_->stop();
  port_b_ = start(b_, console_config{"", port_a_, pki_.ca_pem, ""});
  a_->stop();
  port_a_ = start(a_, console_config{"", port_b_, pki_.ca_pem, ""});
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::conflict) << c.err().message;
  EXPECT_NE(c.err().message.find("forwarded here by another node"), std::string::npos);
}

TEST_F(forward_test, StopOfTheForwardingNodeEndsEveryHop) {
  fake_vnc_server vnc(vnc_path());
  start_pair();
  auto c = connect(port_a_, console_path, token_for("viewer"));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(run(rfb_handshake((*c)->ws)).ok());
  std::optional<result<std::string>> next;
  asio::co_spawn(client_ioc_, store_outcome(read_message((*c)->ws), &next), asio::detached);
  std::thread stopper([&] { EXPECT_TRUE(a_->stop()); });
  client_ioc_.restart();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!next && std::chrono::steady_clock::now() < until)
    client_ioc_.run_one_for(std::chrono::milliseconds(50));
  stopper.join();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ((*c)->ws.reason().code, websocket::close_code::going_away);
  EXPECT_TRUE(wait_for([&] { return b_->connection_count() == 0; }));
  EXPECT_TRUE(wait_for([&] { return vnc.ended_by_client() == 1; }));
}

}  // namespace
}  // namespace vcube::api::testing
