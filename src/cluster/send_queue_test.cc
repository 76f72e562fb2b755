#include "cluster/send_queue.h"

#include <gtest/gtest.h>

namespace vcube::cluster {
namespace {

TEST(send_queue, keeps_order_and_counts_bytes) {
  send_queue q;
  ASSERT_TRUE(q.push("a").ok());
  ASSERT_TRUE(q.push("bcd").ok());
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.bytes(), 4u);
  EXPECT_EQ(q.front(), "a");
  q.pop();
  EXPECT_EQ(q.front(), "bcd");
  EXPECT_EQ(q.bytes(), 3u);
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(send_queue, refuses_beyond_message_count) {
  send_queue q({.messages_max = 2, .bytes_max = 100, .message_bytes_max = 10});
  ASSERT_TRUE(q.push("1").ok());
  ASSERT_TRUE(q.push("2").ok());
  auto s = q.push("3");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, errc::unavailable);
  EXPECT_EQ(q.size(), 2u);
  q.pop();
  EXPECT_TRUE(q.push("3").ok());
}

TEST(send_queue, refuses_beyond_total_bytes) {
  send_queue q({.messages_max = 100, .bytes_max = 10, .message_bytes_max = 10});
  ASSERT_TRUE(q.push("123456").ok());
  auto s = q.push("12345");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, errc::unavailable);
  EXPECT_TRUE(q.push("1234").ok());
  EXPECT_EQ(q.bytes(), 10u);
}

TEST(send_queue, refuses_an_oversized_message) {
  send_queue q({.messages_max = 100, .bytes_max = 100, .message_bytes_max = 3});
  auto s = q.push("1234");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, errc::too_large);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace vcube::cluster
