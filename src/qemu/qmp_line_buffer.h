// qmp_line_buffer: splits a byte stream into lines ('\n', with an optional
// '\r' before it) under a size limit. Bytes may arrive split anywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vcube::qemu {

struct qmp_line {
  std::string text;          // without the line end; empty when is_oversize
  bool is_oversize = false;  // the line exceeded the limit and was dropped
};

class qmp_line_buffer {
 public:
  explicit qmp_line_buffer(size_t line_bytes_max) : line_bytes_max_(line_bytes_max) {}

  // Complete lines found in `bytes` (with what came before), in order. An
  // oversize line is reported once, as soon as it passes the limit, and its
  // remaining bytes up to the next '\n' are discarded. Memory stays bounded by
  // the limit.
  std::vector<qmp_line> feed(std::string_view bytes);

  size_t buffered_bytes() const { return partial_.size(); }

 private:
  size_t line_bytes_max_;
  std::string partial_;
  bool is_discarding_ = false;
};

}  // namespace vcube::qemu
