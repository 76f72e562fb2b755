#include "qemu/qmp_line_buffer.h"

namespace vcube::qemu {

std::vector<qmp_line> qmp_line_buffer::feed(std::string_view bytes) {
  std::vector<qmp_line> lines;
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, end);
    if (!is_discarding_ && partial_.size() + piece.size() > line_bytes_max_) {
      is_discarding_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
      lines.push_back({{}, true});
    }
    if (!is_discarding_)
      partial_.append(piece);
    if (end == std::string_view::npos)
      break;
    if (!is_discarding_) {
      if (partial_.ends_with('\r'))
        partial_.pop_back();
      lines.push_back({std::move(partial_), false});
    }
    partial_.clear();
    is_discarding_ = false;
    bytes.remove_prefix(end + 1);
  }
  return lines;
}

}  // namespace vcube::qemu
