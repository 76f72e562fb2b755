#include "esan/file_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace vcube::esan {
namespace {

struct temp_file {
  std::string path = "/tmp/vcube-esan-backend-" + std::to_string(::getpid()) + "-" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
  explicit temp_file(uint64_t size) {
    std::ofstream(path).close();
    std::filesystem::resize_file(path, size);
  }
  ~temp_file() { std::filesystem::remove(path); }
};

std::vector<std::byte> pattern(size_t n, uint8_t value) {
  return std::vector<std::byte>(n, std::byte{value});
}

TEST(FileBackend, OpensAndReportsSize) {
  temp_file f(1 << 20);
  auto b = file_backend::open(f.path, false);
  ASSERT_TRUE(b) << b.err().message;
  EXPECT_EQ((*b)->size_bytes(), 1u << 20);
  EXPECT_FALSE((*b)->is_read_only());
}

TEST(FileBackend, MissingFileIsNotFound) {
  auto b = file_backend::open("/tmp/vcube-esan-does-not-exist", false);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.err().code, errc::not_found);
  EXPECT_NE(b.err().message.find("/tmp/vcube-esan-does-not-exist"), std::string::npos);
}

TEST(FileBackend, WriteThenReadBack) {
  temp_file f(1 << 20);
  auto b = std::move(file_backend::open(f.path, false).value());
  const auto data = pattern(8192, 0xab);
  ASSERT_TRUE(b->write(4096, data, true));
  ASSERT_TRUE(b->flush());
  auto out = pattern(8192, 0);
  ASSERT_TRUE(b->read(4096, out));
  EXPECT_EQ(out, data);
}

TEST(FileBackend, TrimAndWriteZeroesReadAsZeroes) {
  temp_file f(1 << 20);
  auto b = std::move(file_backend::open(f.path, false).value());
  ASSERT_TRUE(b->write(0, pattern(1 << 20, 0x5a), false));
  ASSERT_TRUE(b->write_zeroes(65536, 65536, false, false));
  ASSERT_TRUE(b->write_zeroes(262144, 4096, true, true));
  ASSERT_TRUE(b->trim(524288, 65536, false));
  auto out = pattern(65536, 1);
  ASSERT_TRUE(b->read(65536, out));
  EXPECT_EQ(out, pattern(65536, 0));
  auto small = pattern(4096, 1);
  ASSERT_TRUE(b->read(262144, small));
  EXPECT_EQ(small, pattern(4096, 0));
  ASSERT_TRUE(b->read(0, small));
  EXPECT_EQ(small, pattern(4096, 0x5a));  // outside the zeroed ranges
}

TEST(FileBackend, ReadOnlyRefusesWrites) {
  temp_file f(4096);
  auto b = std::move(file_backend::open(f.path, true).value());
  EXPECT_TRUE(b->is_read_only());
  auto s = b->write(0, pattern(512, 1), false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().code, errc::internal);  // EBADF: the server never lets it get here
}

}  // namespace
}  // namespace vcube::esan
