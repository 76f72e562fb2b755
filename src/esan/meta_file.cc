#include "esan/meta_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vcube::esan {
namespace {

constexpr uint64_t bitmap_at = meta_block_bytes;
constexpr uint64_t page_bytes = 4096;

error os_error(const std::string& path, const char* what) {
  return make_error(errc::internal, path + ": " + what + ": " + std::strerror(errno));
}

status read_exact(int fd, const std::string& path, uint64_t offset, std::string& out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return os_error(path, "read");
    if (n == 0)
      return make_error(errc::invalid_input, path + ": the metadata file is truncated");
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace

meta_file::meta_file(int fd, std::string path, volume_meta meta, region_bitmap bitmap)
    : fd_(fd), path_(std::move(path)), meta_(meta), bitmap_(std::move(bitmap)) {}

meta_file::~meta_file() {
  close(fd_);
}

result<std::unique_ptr<meta_file>> meta_file::create(const std::string& path, uint64_t size_bytes,
                                                     uint32_t region_bytes) {
  auto bitmap = region_bitmap::create(size_bytes, region_bytes);
  if (!bitmap)
    return bitmap.err();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return os_error(path, "create");
  volume_meta meta;
  meta.size_bytes = size_bytes;
  meta.region_bytes = region_bytes;
  std::unique_ptr<meta_file> file(new meta_file(fd, path, meta, std::move(*bitmap)));
  uint64_t words = (file->bitmap_.regions() + 63) / 64;
  auto written = file->write_at(0, encode_meta(meta));
  if (written && words > 0)
    written = file->write_bitmap_pages(0, words - 1);
  if (written)
    written = file->write_activity({});
  if (!written) {
    unlink(path.c_str());
    return written.err();
  }
  return file;
}

result<std::unique_ptr<meta_file>> meta_file::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return os_error(path, "open");
  std::string block(meta_block_bytes, '\0');
  auto read = read_exact(fd, path, 0, block);
  auto meta = read ? decode_meta(block) : result<volume_meta>(read.err());
  if (!meta) {
    close(fd);
    return make_error(meta.err().code, path + ": " + meta.err().message);
  }
  auto empty = region_bitmap::create(meta->size_bytes, meta->region_bytes);
  std::string bits(empty->encoded_bytes(), '\0');
  read = read_exact(fd, path, bitmap_at, bits);
  auto bitmap = read ? region_bitmap::decode(meta->size_bytes, meta->region_bytes, bits)
                     : result<region_bitmap>(read.err());
  if (!bitmap) {
    close(fd);
    return make_error(bitmap.err().code, path + ": " + bitmap.err().message);
  }
  std::unique_ptr<meta_file> file(new meta_file(fd, path, *meta, std::move(*bitmap)));
  file->read_activity();
  return file;
}

uint64_t meta_file::activity_at() const {
  return bitmap_at + (bitmap_.encoded_bytes() + page_bytes - 1) / page_bytes * page_bytes;
}

void meta_file::read_activity() {
  for (uint64_t slot = 0; slot < 2; ++slot) {
    std::string block(al_block_bytes, '\0');
    if (!read_exact(fd_, path_, activity_at() + slot * al_block_bytes, block))
      continue;
    auto r = decode_al(block);
    if (r && (!al_ || r->seq > al_->seq))
      al_ = std::move(*r);
  }
  al_seq_ = al_ ? al_->seq : 0;
}

status meta_file::write_activity(al_record record) {
  record.seq = al_seq_ + 1;
  auto written = write_at(activity_at() + (record.seq % 2) * al_block_bytes, encode_al(record));
  if (!written)
    return written;
  al_seq_ = record.seq;
  al_ = std::move(record);
  return ok_status();
}

status meta_file::write_at(uint64_t offset, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n =
        pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return os_error(path_, "write");
    done += static_cast<size_t>(n);
  }
  if (fdatasync(fd_) != 0)
    return os_error(path_, "fdatasync");
  return ok_status();
}

status meta_file::write_bitmap_pages(uint64_t first_word, uint64_t last_word) {
  std::string all = bitmap_.encode();
  uint64_t begin = first_word * 8 / page_bytes * page_bytes;
  uint64_t end = std::min<uint64_t>(all.size(), (last_word * 8 / page_bytes + 1) * page_bytes);
  return write_at(bitmap_at + begin, all.substr(begin, end - begin));
}

status meta_file::set_meta(const volume_meta& meta) {
  if (meta.size_bytes != meta_.size_bytes || meta.region_bytes != meta_.region_bytes)
    return make_error(errc::invalid_input,
                      path_ + ": size and region size change only through a grow");
  auto written = write_at(0, encode_meta(meta));
  if (written)
    meta_ = meta;
  return written;
}

status meta_file::mark(uint64_t offset, uint64_t length) {
  if (length == 0 || offset >= meta_.size_bytes)
    return ok_status();
  if (is_unsynced_) {  // an earlier write failed: bits in memory may not be on disk
    if (auto s = flush_bitmap(); !s)
      return s;
  }
  if (bitmap_.mark(offset, length) == 0)
    return ok_status();  // already on disk
  uint64_t end = length > meta_.size_bytes - offset ? meta_.size_bytes : offset + length;
  uint64_t first = offset / meta_.region_bytes / 64;
  uint64_t last = (end - 1) / meta_.region_bytes / 64;
  auto written = write_bitmap_pages(first, last);
  is_unsynced_ = !written;
  return written;
}

void meta_file::clear(uint64_t region) {
  bitmap_.clear(region);
}

status meta_file::flush_bitmap() {
  uint64_t words = (bitmap_.regions() + 63) / 64;
  auto written = words == 0 ? ok_status() : write_bitmap_pages(0, words - 1);
  is_unsynced_ = !written;
  return written;
}

}  // namespace vcube::esan

namespace vcube::esan {

status meta_file::grow(uint64_t size_bytes) {
  if (size_bytes <= meta_.size_bytes)
    return ok_status();
  auto bigger = region_bitmap::create(size_bytes, meta_.region_bytes);
  if (!bigger)
    return bigger.err();
  for (auto r = bitmap_.next_set(0); r; r = bitmap_.next_set(*r + 1))
    bigger->mark(bitmap_.region_offset(*r), 1);
  region_bitmap old = std::move(bitmap_);
  bitmap_ = std::move(*bigger);
  // The bitmap may now cover the old log slots: the log moves behind it
  // before the block says the new size.
  auto written = flush_bitmap();
  if (written)
    written = write_activity(al_ ? *al_ : al_record{});
  volume_meta m = meta_;
  m.size_bytes = size_bytes;
  if (written)
    written = write_at(0, encode_meta(m));
  if (!written) {
    bitmap_ = std::move(old);
    return written;
  }
  meta_ = m;
  return ok_status();
}

}  // namespace vcube::esan
