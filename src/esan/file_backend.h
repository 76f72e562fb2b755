// A backend on a regular file or a block device: pread/pwrite, fdatasync for
// FLUSH and FUA, fallocate for TRIM (PUNCH_HOLE) and WRITE_ZEROES (ZERO_RANGE
// or PUNCH_HOLE), falling back to writing zeroes where fallocate is refused.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "esan/backend.h"

namespace vcube::esan {

class file_backend final : public backend {
 public:
  // Opens `path` (which must exist) read-write, or read-only.
  static result<std::unique_ptr<file_backend>> open(const std::string& path, bool is_read_only);
  ~file_backend() override;
  file_backend(const file_backend&) = delete;
  file_backend& operator=(const file_backend&) = delete;

  uint64_t size_bytes() const override { return size_bytes_.load(); }
  // Extends a regular file to at least `size_bytes` (sparse: reads as
  // zeroes); a block device must already be that large.
  status grow(uint64_t size_bytes);
  bool is_read_only() const override { return is_read_only_; }
  status read(uint64_t offset, std::span<std::byte> out) override;
  status write(uint64_t offset, std::span<const std::byte> data, bool is_fua) override;
  status flush() override;
  status trim(uint64_t offset, uint64_t length, bool is_fua) override;
  status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) override;

 private:
  file_backend(int fd, std::string path, uint64_t size_bytes, bool is_read_only);
  status write_zero_buffers(uint64_t offset, uint64_t length);
  status os_error(const char* what, int errno_value) const;

  int fd_;
  std::string path_;
  std::atomic<uint64_t> size_bytes_;
  bool is_read_only_;
};

}  // namespace vcube::esan
