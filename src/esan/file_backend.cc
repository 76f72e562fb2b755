#include "esan/file_backend.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace vcube::esan {
namespace {

errc errc_for(int errno_value) {
  switch (errno_value) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return errc::too_large;
    case EPERM:
    case EACCES:
    case EROFS:
      return errc::forbidden;
    case EINVAL:
      return errc::invalid_input;
    default:
      return errc::internal;
  }
}

result<uint64_t> size_of(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(errc::internal, "cannot stat " + path + ": " + std::strerror(errno));
  if (S_ISREG(st.st_mode))
    return static_cast<uint64_t>(st.st_size);
  uint64_t size = 0;
  if (S_ISBLK(st.st_mode) && ::ioctl(fd, BLKGETSIZE64, &size) == 0)
    return size;
  return make_error(errc::invalid_input, path + " is neither a regular file nor a block device");
}

bool is_unsupported(int errno_value) {
  return errno_value == EOPNOTSUPP || errno_value == ENOSYS || errno_value == EINVAL;
}

}  // namespace

result<std::unique_ptr<file_backend>> file_backend::open(const std::string& path,
                                                         bool is_read_only) {
  const int fd = ::open(path.c_str(), (is_read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno == ENOENT ? errc::not_found : errc::internal,
                      "cannot open " + path + ": " + std::strerror(errno));
  auto size = size_of(fd, path);
  if (!size) {
    ::close(fd);
    return size.err();
  }
  return std::unique_ptr<file_backend>(new file_backend(fd, path, *size, is_read_only));
}

file_backend::file_backend(int fd, std::string path, uint64_t size_bytes, bool is_read_only)
    : fd_(fd), path_(std::move(path)), size_bytes_(size_bytes), is_read_only_(is_read_only) {}

file_backend::~file_backend() {
  ::close(fd_);
}

status file_backend::grow(uint64_t size_bytes) {
  if (size_bytes <= size_bytes_.load())
    return ok_status();
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    return os_error("stat", errno);
  if (!S_ISREG(st.st_mode))
    return make_error(errc::conflict, path_ + " is a block device of " +
                                          std::to_string(size_bytes_.load()) +
                                          " bytes: grow the device first");
  if (::ftruncate(fd_, static_cast<off_t>(size_bytes)) != 0 || ::fsync(fd_) != 0)
    return os_error("grow", errno);
  size_bytes_ = size_bytes;
  return ok_status();
}

status file_backend::os_error(const char* what, int errno_value) const {
  return make_error(errc_for(errno_value),
                    std::string(what) + " on " + path_ + " failed: " + std::strerror(errno_value));
}

status file_backend::read(uint64_t offset, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, offset + done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return os_error("read", errno);
    if (n == 0) {  // the file shrank under us: what is missing reads as zeroes
      std::fill(out.begin() + done, out.end(), std::byte{0});
      break;
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

status file_backend::write(uint64_t offset, std::span<const std::byte> data, bool is_fua) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, offset + done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return os_error("write", errno);
    done += static_cast<size_t>(n);
  }
  return is_fua ? flush() : ok_status();
}

status file_backend::flush() {
  if (::fdatasync(fd_) != 0)
    return os_error("fdatasync", errno);
  return ok_status();
}

status file_backend::trim(uint64_t offset, uint64_t length, bool is_fua) {
  const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
  if (::fallocate(fd_, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0 &&
      !is_unsupported(errno))
    return os_error("trim", errno);
  return is_fua ? flush() : ok_status();  // a refused trim is fine: trim is advisory
}

status file_backend::write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) {
  const int mode = may_punch ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                             : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
  if (::fallocate(fd_, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    if (!is_unsupported(errno))
      return os_error("write zeroes", errno);
    if (auto s = write_zero_buffers(offset, length); !s)
      return s;
  }
  return is_fua ? flush() : ok_status();
}

status file_backend::write_zero_buffers(uint64_t offset, uint64_t length) {
  static const std::vector<std::byte> zeroes(1 << 20);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeroes.size()));
    if (auto s = write(offset, std::span(zeroes.data(), n), false); !s)
      return s;
    offset += n;
    length -= n;
  }
  return ok_status();
}

}  // namespace vcube::esan
