#include "qemu/qmp_line_buffer.h"

#include <gtest/gtest.h>

namespace vcube::qemu {
namespace {

TEST(qmp_line_buffer, splits_lines_and_strips_carriage_returns) {
  qmp_line_buffer buffer(16);
  auto lines = buffer.feed("ab\r\ncd\nef");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "ab");
  EXPECT_EQ(lines[1].text, "cd");
  EXPECT_EQ(buffer.buffered_bytes(), 2u);
  lines = buffer.feed("\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "ef");
}

TEST(qmp_line_buffer, oversize_line_is_dropped_and_memory_stays_bounded) {
  qmp_line_buffer buffer(4);
  auto lines = buffer.feed("abcd");
  EXPECT_TRUE(lines.empty());
  lines = buffer.feed("e");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].is_oversize);
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(buffer.feed("xxxxxxxx").empty());
  EXPECT_EQ(buffer.buffered_bytes(), 0u);
  lines = buffer.feed("x\nok\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "ok");
}

}  // namespace
}  // namespace vcube::qemu
