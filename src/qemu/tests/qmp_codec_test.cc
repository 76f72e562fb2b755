#include "qemu/qmp_codec.h"

#include <gtest/gtest.h>

#include "qemu/tests/qmp_fixtures.h"

namespace vcube::qemu {
namespace {

using testing::capabilities_ok_line;
using testing::greeting_line;
using testing::ready_codec;
using testing::send;
using testing::session_lines;

TEST(qmp_codec, greeting_starts_negotiation) {
  qmp_codec codec;
  EXPECT_EQ(codec.state(), qmp_state::awaiting_greeting);
  codec.feed(greeting_line);
  qmp_output output = codec.take_output();
  ASSERT_TRUE(output.greeting.has_value());
  EXPECT_EQ(output.greeting->major, 7);
  EXPECT_EQ(output.greeting->minor, 2);
  EXPECT_EQ(output.greeting->micro, 0);
  EXPECT_EQ(output.greeting->package, "Debian 1:7.2+dfsg-7+deb12u18");
  EXPECT_EQ(output.greeting->capabilities, std::vector<std::string>{"oob"});
  EXPECT_EQ(output.lines_to_send,
            std::vector<std::string>{"{\"execute\":\"qmp_capabilities\",\"id\":1}\n"});
  EXPECT_EQ(codec.state(), qmp_state::negotiating);
  ASSERT_EQ(codec.pending().size(), 1u);
  EXPECT_EQ(codec.pending()[0].name, "qmp_capabilities");
  EXPECT_FALSE(codec.encode_command("query-status").ok());
}

TEST(qmp_codec, capabilities_reply_makes_it_ready) {
  qmp_codec codec;
  codec.feed(greeting_line);
  (void)codec.take_output();
  codec.feed(capabilities_ok_line);
  qmp_output output = codec.take_output();
  EXPECT_TRUE(output.became_ready);
  EXPECT_TRUE(output.replies.empty());
  EXPECT_TRUE(output.errors.empty());
  EXPECT_EQ(codec.state(), qmp_state::ready);
  EXPECT_TRUE(codec.pending().empty());
  EXPECT_FALSE(codec.has_output());
}

TEST(qmp_codec, refused_negotiation_fails_the_codec) {
  qmp_codec codec;
  codec.feed(greeting_line +
             "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"nope\"}, \"id\": 1}\n" +
             "{\"return\": {}, \"id\": 2}\n");
  qmp_output output = codec.take_output();
  EXPECT_EQ(codec.state(), qmp_state::failed);
  ASSERT_EQ(output.errors.size(), 1u);
  EXPECT_EQ(output.errors[0].kind, qmp_error_kind::negotiation_failed);
  EXPECT_NE(output.errors[0].message.find("CommandNotFound: nope"), std::string::npos);
  EXPECT_FALSE(codec.encode_command("query-status").ok());
  codec.feed(session_lines);
  EXPECT_FALSE(codec.has_output());
}

TEST(qmp_codec, encodes_commands_with_growing_ids) {
  qmp_codec codec = ready_codec();
  auto first = codec.encode_command("query-status");
  auto second = codec.encode_command("blockdev-change-medium",
                                     {{"id", "cdrom0"}, {"filename", "/iso/a.iso"}});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->line, "{\"execute\":\"query-status\",\"id\":2}\n");
  EXPECT_EQ(second->line,
            "{\"arguments\":{\"filename\":\"/iso/a.iso\",\"id\":\"cdrom0\"},"
            "\"execute\":\"blockdev-change-medium\",\"id\":3}\n");
  auto pending = codec.pending();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].id, 2u);
  EXPECT_EQ(pending[1].name, "blockdev-change-medium");
}

TEST(qmp_codec, refuses_bad_commands) {
  qmp_codec codec = ready_codec();
  auto bad_name = codec.encode_command("query status");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.err().field, "name");
  auto bad_arguments = codec.encode_command("stop", json::array({1}));
  ASSERT_FALSE(bad_arguments.ok());
  EXPECT_EQ(bad_arguments.err().field, "arguments");
  auto not_utf8 = codec.encode_command("human-monitor-command", {{"command-line", "\xff\xfe"}});
  EXPECT_TRUE(not_utf8.ok());
  EXPECT_EQ(codec.pending().size(), 1u);
}

TEST(qmp_codec, replies_match_by_id_out_of_order) {
  qmp_codec codec = ready_codec();
  const uint64_t status_id = send(codec, "query-status");
  const uint64_t powerdown_id = send(codec, "system_powerdown");
  codec.feed("{\"return\": {}, \"id\": 3}\n{\"return\": {\"status\": \"running\"}, \"id\": 2}\n");
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.replies.size(), 2u);
  EXPECT_EQ(output.replies[0].id, powerdown_id);
  EXPECT_EQ(output.replies[0].command, "system_powerdown");
  EXPECT_EQ(output.replies[1].id, status_id);
  EXPECT_EQ(output.replies[1].command, "query-status");
  EXPECT_EQ(output.replies[1].return_value["status"], "running");
  EXPECT_TRUE(codec.pending().empty());
}

TEST(qmp_codec, event_before_reply_is_delivered_separately_and_first) {
  qmp_codec codec = ready_codec();
  send(codec, "stop");
  codec.feed(
      "{\"timestamp\": {\"seconds\": 10, \"microseconds\": 20}, \"event\": \"STOP\"}\n"
      "{\"return\": {}, \"id\": 2}\n");
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.events.size(), 1u);
  ASSERT_EQ(output.replies.size(), 1u);
  EXPECT_EQ(output.events[0].kind, qmp_event_kind::stop);
  EXPECT_EQ(output.events[0].timestamp_seconds, 10);
  EXPECT_EQ(output.events[0].timestamp_microseconds, 20);
  EXPECT_EQ(output.replies[0].command, "stop");
  EXPECT_LT(output.events[0].sequence, output.replies[0].sequence);
}

TEST(qmp_codec, error_reply_carries_class_and_description) {
  qmp_codec codec = ready_codec();
  send(codec, "eject", {{"id", "cdrom9"}});
  codec.feed(
      "{\"id\": 2, \"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'cdrom9' not "
      "found\"}}\n");
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.replies.size(), 1u);
  EXPECT_TRUE(output.replies[0].is_error);
  EXPECT_EQ(output.replies[0].error_class, "DeviceNotFound");
  EXPECT_EQ(output.replies[0].error_description, "Device 'cdrom9' not found");
}

TEST(qmp_codec, pending_commands_are_limited) {
  qmp_codec codec = ready_codec({.line_bytes_max = 1024, .pending_commands_max = 2});
  send(codec, "query-status");
  send(codec, "query-status");
  auto third = codec.encode_command("query-status");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.err().code, errc::unavailable);
  codec.feed("{\"return\": {}, \"id\": 2}\n");
  EXPECT_TRUE(codec.encode_command("query-status").ok());
}

TEST(qmp_codec, abandoned_command_drops_its_late_reply) {
  qmp_codec codec = ready_codec();
  const uint64_t slow = send(codec, "system_powerdown");
  const uint64_t fast = send(codec, "query-status");
  EXPECT_TRUE(codec.abandon(slow));
  EXPECT_FALSE(codec.abandon(slow));
  ASSERT_EQ(codec.pending().size(), 1u);
  EXPECT_EQ(codec.pending()[0].id, fast);
  codec.feed("{\"return\": {}, \"id\": 2}\n");
  EXPECT_FALSE(codec.has_output());
}

TEST(qmp_codec, unknown_ids_are_protocol_errors) {
  qmp_codec codec = ready_codec();
  send(codec, "query-status");
  codec.feed(
      "{\"return\": {}, \"id\": 99}\n{\"return\": {}, \"id\": \"2\"}\n{\"return\": {}, \"id\": "
      "-2}\n{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n");
  qmp_output output = codec.take_output();
  EXPECT_TRUE(output.replies.empty());
  ASSERT_EQ(output.errors.size(), 4u);
  EXPECT_EQ(output.errors[0].kind, qmp_error_kind::unknown_id);
  EXPECT_NE(output.errors[0].message.find("99"), std::string::npos);
  EXPECT_EQ(output.errors[1].kind, qmp_error_kind::unknown_id);
  EXPECT_EQ(output.errors[2].kind, qmp_error_kind::unknown_id);
  EXPECT_EQ(output.errors[3].kind, qmp_error_kind::reply_without_id);
  EXPECT_EQ(codec.pending().size(), 1u);
}

TEST(qmp_codec, messages_out_of_place_are_protocol_errors) {
  qmp_codec codec;
  codec.feed("{\"return\": {}, \"id\": 1}\n" + greeting_line + greeting_line);
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.errors.size(), 2u);
  EXPECT_EQ(output.errors[0].kind, qmp_error_kind::unexpected_message);
  EXPECT_EQ(output.errors[1].kind, qmp_error_kind::unexpected_message);
  EXPECT_TRUE(output.greeting.has_value());
  EXPECT_EQ(output.lines_to_send.size(), 1u);
}

}  // namespace
}  // namespace vcube::qemu
