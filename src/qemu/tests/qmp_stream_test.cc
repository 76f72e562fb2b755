// The byte stream side of the QMP codec: splits, several messages per chunk,
// garbage, oversize lines, and the events QEMU sends.
#include <gtest/gtest.h>

#include "qemu/qmp_codec.h"
#include "qemu/tests/qmp_fixtures.h"

namespace vcube::qemu {
namespace {

using testing::capabilities_ok_line;
using testing::describe;
using testing::greeting_line;
using testing::ready_codec;
using testing::send;
using testing::session_lines;

// A ready codec with the session's two commands in flight.
qmp_codec session_codec() {
  qmp_codec codec = ready_codec();
  send(codec, "query-status");
  send(codec, "system_powerdown");
  return codec;
}

TEST(qmp_stream, session_in_one_chunk) {
  qmp_codec codec = session_codec();
  codec.feed(session_lines);
  EXPECT_EQ(describe(codec.take_output()),
            "reply #2 id 3 system_powerdown {}\n"
            "reply #3 id 2 query-status {\"running\":true,\"singlestep\":false,\"status\":"
            "\"running\"}\n"
            "event #1 POWERDOWN {}\n"
            "event #4 SHUTDOWN {\"guest\":true,\"reason\":\"guest-shutdown\"}\n");
}

TEST(qmp_stream, every_split_point_of_the_handshake) {
  const std::string transcript = greeting_line + capabilities_ok_line;
  for (size_t split = 0; split <= transcript.size(); ++split) {
    qmp_codec codec;
    std::string text;
    codec.feed(transcript.substr(0, split));
    text += describe(codec.take_output());
    codec.feed(transcript.substr(split));
    text += describe(codec.take_output());
    ASSERT_EQ(text, "send {\"execute\":\"qmp_capabilities\",\"id\":1}\ngreeting 2\nready\n")
        << "split at " << split;
  }
}

TEST(qmp_stream, every_split_point_of_the_session) {
  qmp_codec whole = session_codec();
  whole.feed(session_lines);
  const qmp_output expected = whole.take_output();
  for (size_t split = 0; split <= session_lines.size(); ++split) {
    qmp_codec codec = session_codec();
    codec.feed(session_lines.substr(0, split));
    qmp_output first = codec.take_output();
    codec.feed(session_lines.substr(split));
    qmp_output second = codec.take_output();
    // Concatenate the two takes and compare with the single feed.
    for (auto& reply : second.replies)
      first.replies.push_back(std::move(reply));
    for (auto& event : second.events)
      first.events.push_back(std::move(event));
    for (auto& error : second.errors)
      first.errors.push_back(std::move(error));
    ASSERT_EQ(describe(first), describe(expected)) << "split at " << split;
  }
}

TEST(qmp_stream, one_byte_at_a_time) {
  qmp_codec codec;
  const std::string transcript = greeting_line + capabilities_ok_line;
  for (char c : transcript)
    codec.feed(std::string_view(&c, 1));
  ASSERT_TRUE(codec.take_output().became_ready);
  send(codec, "query-status");
  send(codec, "system_powerdown");
  std::string text;
  for (char c : session_lines) {
    codec.feed(std::string_view(&c, 1));
    text += describe(codec.take_output());
  }
  EXPECT_EQ(text,
            "event #1 POWERDOWN {}\n"
            "reply #2 id 3 system_powerdown {}\n"
            "reply #3 id 2 query-status {\"running\":true,\"singlestep\":false,\"status\":"
            "\"running\"}\n"
            "event #4 SHUTDOWN {\"guest\":true,\"reason\":\"guest-shutdown\"}\n");
}

TEST(qmp_stream, handshake_and_events_in_one_chunk_with_bare_newlines) {
  qmp_codec codec;
  codec.feed(greeting_line + "{\"return\": {}, \"id\": 1}\n\n{\"event\": \"RESUME\"}\n");
  qmp_output output = codec.take_output();
  EXPECT_TRUE(output.became_ready);
  ASSERT_EQ(output.events.size(), 1u);
  EXPECT_EQ(output.events[0].kind, qmp_event_kind::resume);
  EXPECT_TRUE(output.errors.empty());
}

TEST(qmp_stream, garbage_lines_are_errors_and_the_stream_goes_on) {
  qmp_codec codec = session_codec();
  codec.feed("not json\n[1,2]\n42\n\"s\"\n{\"hello\": 1}\n{\"return\": \n" + std::string(100, '[') +
             "\n\xff\xfe\n{\"return\": {}, \"id\": 2}\n");
  qmp_output output = codec.take_output();
  std::vector<qmp_error_kind> kinds;
  for (const auto& error : output.errors)
    kinds.push_back(error.kind);
  EXPECT_EQ(kinds, (std::vector<qmp_error_kind>{
                       qmp_error_kind::invalid_json, qmp_error_kind::not_an_object,
                       qmp_error_kind::not_an_object, qmp_error_kind::not_an_object,
                       qmp_error_kind::unrecognised, qmp_error_kind::invalid_json,
                       qmp_error_kind::invalid_json, qmp_error_kind::invalid_json}));
  EXPECT_NE(output.errors[0].message.find("'not json'"), std::string::npos);
  ASSERT_EQ(output.replies.size(), 1u);
  EXPECT_EQ(output.replies[0].command, "query-status");
}

TEST(qmp_stream, deep_nesting_is_refused_not_recursed) {
  qmp_codec codec = ready_codec();
  codec.feed(std::string(200000, '[') + std::string(200000, ']') + "\n");
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.errors.size(), 1u);
  EXPECT_NE(output.errors[0].message.find("deeper than 64"), std::string::npos);
}

std::string reply_line_of_bytes(size_t line_bytes) {
  const std::string head = "{\"id\": 2, \"return\": \"";
  const std::string tail = "\"}";
  return head + std::string(line_bytes - head.size() - tail.size(), 'x') + tail;
}

TEST(qmp_stream, line_of_exactly_the_limit_is_accepted) {
  qmp_codec codec = session_codec();
  codec.feed(reply_line_of_bytes(1024 * 1024) + "\n");
  qmp_output output = codec.take_output();
  EXPECT_TRUE(output.errors.empty());
  ASSERT_EQ(output.replies.size(), 1u);
  EXPECT_EQ(output.replies[0].return_value.get<std::string>().size(), 1024u * 1024 - 23);
}

TEST(qmp_stream, oversize_line_is_reported_once_and_skipped) {
  qmp_codec codec = session_codec();
  const std::string line = reply_line_of_bytes(1024 * 1024 + 1);
  // In pieces, so the limit is crossed mid-chunk and the rest keeps coming.
  for (size_t offset = 0; offset < line.size(); offset += 4096)
    codec.feed(std::string_view(line).substr(offset, 4096));
  codec.feed("\n{\"return\": {}, \"id\": 3}\n");
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.errors.size(), 1u);
  EXPECT_EQ(output.errors[0].kind, qmp_error_kind::oversize_line);
  ASSERT_EQ(output.replies.size(), 1u);
  EXPECT_EQ(output.replies[0].id, 3u);
  ASSERT_EQ(codec.pending().size(), 1u);
  EXPECT_EQ(codec.pending()[0].id, 2u);
}

TEST(qmp_stream, known_events_are_decoded) {
  qmp_codec codec = ready_codec();
  codec.feed(
      "{\"event\": \"RESET\", \"data\": {\"guest\": false, \"reason\": "
      "\"host-qmp-system-reset\"}}\n"
      "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}}\n"
      "{\"event\": \"DEVICE_TRAY_MOVED\", \"data\": {\"device\": \"\", \"id\": \"cdrom0\", "
      "\"tray-open\": true}}\n"
      "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-signal\"}}\n"
      "{\"event\": \"BLOCK_IO_ERROR\", \"data\": {\"device\": \"\", \"node-name\": "
      "\"disk0-format\","
      " \"operation\": \"write\", \"action\": \"stop\"}}\n");
  qmp_output output = codec.take_output();
  ASSERT_EQ(output.events.size(), 5u);
  const auto& e = output.events;
  EXPECT_EQ(e[0].kind, qmp_event_kind::reset);
  EXPECT_FALSE(e[0].is_guest_initiated);
  EXPECT_EQ(e[0].reason, "host-qmp-system-reset");
  EXPECT_EQ(e[1].kind, qmp_event_kind::guest_panicked);
  EXPECT_EQ(e[1].action, "pause");
  EXPECT_EQ(e[2].kind, qmp_event_kind::device_tray_moved);
  EXPECT_EQ(e[2].device, "cdrom0");
  EXPECT_TRUE(e[2].is_tray_open);
  EXPECT_EQ(e[3].kind, qmp_event_kind::shutdown);
  EXPECT_EQ(e[3].reason, "host-signal");
  EXPECT_EQ(e[4].kind, qmp_event_kind::other);
  EXPECT_EQ(e[4].name, "BLOCK_IO_ERROR");
  EXPECT_EQ(e[4].data["node-name"], "disk0-format");
  for (size_t i = 1; i < e.size(); ++i)
    EXPECT_LT(e[i - 1].sequence, e[i].sequence);
}

}  // namespace
}  // namespace vcube::qemu
