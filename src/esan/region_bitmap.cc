#include "esan/region_bitmap.h"

#include <algorithm>
#include <bit>

namespace vcube::esan {
namespace {

status check_region_bytes(uint32_t region_bytes) {
  if (region_bytes < region_bytes_min || region_bytes > region_bytes_max ||
      !std::has_single_bit(region_bytes))
    return make_error(errc::invalid_input,
                      "region size " + std::to_string(region_bytes) +
                          " is not a power of two between 4 KiB and 64 MiB",
                      "region_bytes");
  return ok_status();
}

}  // namespace

region_bitmap::region_bitmap(uint64_t volume_bytes, uint32_t region_bytes)
    : volume_bytes_(volume_bytes),
      region_bytes_(region_bytes),
      regions_((volume_bytes + region_bytes - 1) / region_bytes),
      words_((regions_ + 63) / 64, 0) {}

result<region_bitmap> region_bitmap::create(uint64_t volume_bytes, uint32_t region_bytes) {
  if (auto s = check_region_bytes(region_bytes); !s)
    return s.err();
  return region_bitmap(volume_bytes, region_bytes);
}

result<region_bitmap> region_bitmap::decode(uint64_t volume_bytes, uint32_t region_bytes,
                                            std::string_view bytes) {
  auto made = create(volume_bytes, region_bytes);
  if (!made)
    return made.err();
  region_bitmap out = std::move(*made);
  if (bytes.size() != out.encoded_bytes())
    return make_error(errc::invalid_input, "bitmap has " + std::to_string(bytes.size()) +
                                               " bytes, " + std::to_string(out.encoded_bytes()) +
                                               " expected for " + std::to_string(out.regions_) +
                                               " regions");
  for (size_t w = 0; w < out.words_.size(); ++w) {
    uint64_t word = 0;
    for (int b = 0; b < 8; ++b)
      word |= uint64_t(static_cast<unsigned char>(bytes[w * 8 + b])) << (8 * b);
    out.words_[w] = word;
    out.count_ += static_cast<uint64_t>(std::popcount(word));
  }
  uint64_t tail = out.regions_ % 64;
  if (tail != 0 && (out.words_.back() >> tail) != 0)
    return make_error(errc::invalid_input, "bitmap marks regions past the end of the volume");
  return out;
}

uint64_t region_bitmap::mark(uint64_t offset, uint64_t length) {
  if (length == 0 || offset >= volume_bytes_)
    return 0;
  uint64_t end = length > volume_bytes_ - offset ? volume_bytes_ : offset + length;
  uint64_t added = 0;
  for (uint64_t r = offset / region_bytes_; r <= (end - 1) / region_bytes_; ++r) {
    uint64_t bit = uint64_t(1) << (r % 64);
    if ((words_[r / 64] & bit) == 0) {
      words_[r / 64] |= bit;
      ++added;
    }
  }
  count_ += added;
  return added;
}

void region_bitmap::mark_all() {
  if (regions_ > 0)
    mark(0, volume_bytes_);
}

void region_bitmap::clear(uint64_t region) {
  if (region >= regions_)
    return;
  uint64_t bit = uint64_t(1) << (region % 64);
  if (words_[region / 64] & bit) {
    words_[region / 64] &= ~bit;
    --count_;
  }
}

bool region_bitmap::is_set(uint64_t region) const {
  return region < regions_ && (words_[region / 64] >> (region % 64)) & 1;
}

std::optional<uint64_t> region_bitmap::next_set(uint64_t from) const {
  for (uint64_t w = from / 64; w < words_.size(); ++w) {
    uint64_t word = words_[w];
    if (w == from / 64)
      word &= ~uint64_t(0) << (from % 64);
    if (word != 0)
      return w * 64 + static_cast<uint64_t>(std::countr_zero(word));
  }
  return std::nullopt;
}

uint64_t region_bitmap::region_length(uint64_t region) const {
  uint64_t offset = region_offset(region);
  return offset >= volume_bytes_ ? 0 : std::min<uint64_t>(region_bytes_, volume_bytes_ - offset);
}

uint64_t region_bitmap::dirty_bytes() const {
  uint64_t total = count_ * region_bytes_;
  // The last region may be short.
  if (regions_ > 0 && is_set(regions_ - 1))
    total -= region_bytes_ - region_length(regions_ - 1);
  return total;
}

std::string region_bitmap::encode() const {
  std::string out(words_.size() * 8, '\0');
  for (size_t w = 0; w < words_.size(); ++w)
    for (int b = 0; b < 8; ++b)
      out[w * 8 + b] = static_cast<char>((words_[w] >> (8 * b)) & 0xff);
  return out;
}

}  // namespace vcube::esan
