#include "esan/meta_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vcube::esan {
namespace {

namespace fs = std::filesystem;

class meta_file_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vcube-meta-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "vol.meta").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The bitmap bit of `region` as the file holds it, read independently.
  bool bit_on_disk(uint64_t region) {
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(meta_block_bytes + region / 8));
    char byte = 0;
    in.read(&byte, 1);
    return (static_cast<unsigned char>(byte) >> (region % 8)) & 1;
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(meta_file_test, a_new_volume_is_clean_and_reopens) {
  auto created = meta_file::create(path_, 1ull << 30, 65536);
  ASSERT_TRUE(created) << created.err().message;
  EXPECT_EQ((*created)->meta().size_bytes, 1ull << 30);
  EXPECT_FALSE((*created)->meta().is_consistent);
  EXPECT_EQ((*created)->bitmap().count(), 0u);
  created->reset();
  EXPECT_FALSE(meta_file::create(path_, 1ull << 30, 65536));  // never overwrites
  auto opened = meta_file::open(path_);
  ASSERT_TRUE(opened) << opened.err().message;
  EXPECT_EQ((*opened)->meta().region_bytes, 65536u);
}

// A mark is on disk when it returns, in whichever bitmap page it falls.
TEST_F(meta_file_test, marks_are_on_disk_when_mark_returns) {
  // 4 GiB in 4 KiB regions: 1 Mi regions, a 128 KiB bitmap over 32 pages.
  auto file = meta_file::create(path_, 4ull << 30, 4096);
  ASSERT_TRUE(file);
  for (uint64_t region : {0ull, 40000ull, 1048575ull}) {
    ASSERT_TRUE((*file)->mark(region * 4096, 1));
    EXPECT_TRUE(bit_on_disk(region)) << region;
  }
  EXPECT_FALSE(bit_on_disk(1));
  auto again = meta_file::open(path_);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->bitmap().count(), 3u);
  EXPECT_TRUE((*again)->bitmap().is_set(40000));

  (*file)->clear(40000);
  EXPECT_TRUE(bit_on_disk(40000));  // clears are lazy
  ASSERT_TRUE((*file)->flush_bitmap());
  EXPECT_FALSE(bit_on_disk(40000));
}

TEST_F(meta_file_test, metadata_changes_persist) {
  auto file = meta_file::create(path_, 1 << 20, 65536);
  ASSERT_TRUE(file);
  volume_meta m = (*file)->meta();
  m.gens = {5, 4, {3, 2}};
  m.role = volume_role::primary;
  m.is_consistent = true;
  ASSERT_TRUE((*file)->set_meta(m));
  auto again = meta_file::open(path_);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->meta(), m);
  m.size_bytes = 2 << 20;
  EXPECT_FALSE((*file)->set_meta(m));  // only a grow changes the size
}

TEST_F(meta_file_test, a_damaged_file_is_refused) {
  ASSERT_TRUE(meta_file::create(path_, 1 << 20, 65536));
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x55');
  }
  auto opened = meta_file::open(path_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.err().message.find("checksum"), std::string::npos) << opened.err().message;
  fs::resize_file(path_, 100);
  EXPECT_FALSE(meta_file::open(path_));
  EXPECT_FALSE(meta_file::open((dir_ / "missing").string()));
}

TEST_F(meta_file_test, the_newest_activity_record_survives_a_torn_one_and_a_grow) {
  auto created = meta_file::create(path_, 1ull << 30, 65536);  // 2 KiB of bitmap
  ASSERT_TRUE(created);
  ASSERT_TRUE((*created)->activity());
  EXPECT_TRUE((*created)->activity()->extents.empty());
  ASSERT_TRUE((*created)->write_activity({0, false, {3, 4}}));
  ASSERT_TRUE((*created)->write_activity({0, true, {5}}));
  uint64_t newest = (*created)->activity()->seq;
  created->reset();
  auto opened = meta_file::open(path_);
  ASSERT_TRUE(opened);
  ASSERT_TRUE((*opened)->activity());
  EXPECT_EQ((*opened)->activity()->extents, std::vector<uint64_t>{5});
  EXPECT_TRUE((*opened)->activity()->is_recovering);
  opened->reset();
  {  // tear the newest record: the one before it counts
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(2 * 4096 + (newest % 2) * 4096 + 100));
    f.write("torn", 4);
  }
  opened = meta_file::open(path_);
  ASSERT_TRUE(opened);
  ASSERT_TRUE((*opened)->activity());
  EXPECT_EQ((*opened)->activity()->extents, (std::vector<uint64_t>{3, 4}));
  // A grow moves the log behind the bigger bitmap and keeps it.
  ASSERT_TRUE((*opened)->grow(1ull << 40));
  opened->reset();
  opened = meta_file::open(path_);
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)->meta().size_bytes, 1ull << 40);
  ASSERT_TRUE((*opened)->activity());
  EXPECT_EQ((*opened)->activity()->extents, (std::vector<uint64_t>{3, 4}));
}

}  // namespace
}  // namespace vcube::esan
