// The bitmap of a mirrored volume: one bit per region (a power of two of at
// least 4 KiB), set while the peer is away for every region written, cleared
// as a resync copies it. Pure; the metadata file persists its encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vcube::esan {

inline constexpr uint32_t region_bytes_min = 4096;
inline constexpr uint32_t region_bytes_max = 64u << 20;

class region_bitmap {
 public:
  // `region_bytes` must be a power of two in [region_bytes_min, region_bytes_max].
  static result<region_bitmap> create(uint64_t volume_bytes, uint32_t region_bytes);
  // From encode(): exactly the bytes that many regions need, no bit past the end.
  static result<region_bitmap> decode(uint64_t volume_bytes, uint32_t region_bytes,
                                      std::string_view bytes);

  uint64_t volume_bytes() const { return volume_bytes_; }
  uint32_t region_bytes() const { return region_bytes_; }
  uint64_t regions() const { return regions_; }

  // Marks every region that [offset, offset + length) touches, clipped to the
  // volume. Returns how many regions became set (0: nothing new to persist).
  uint64_t mark(uint64_t offset, uint64_t length);
  void mark_all();
  void clear(uint64_t region);
  bool is_set(uint64_t region) const;
  uint64_t count() const { return count_; }
  // The first set region at or after `from`.
  std::optional<uint64_t> next_set(uint64_t from) const;
  // The byte range of a region (the last one may be short).
  uint64_t region_offset(uint64_t region) const { return region * region_bytes_; }
  uint64_t region_length(uint64_t region) const;
  // Bytes a resync of the set regions copies.
  uint64_t dirty_bytes() const;

  // 64-bit little-endian words, regions 0..63 in the first word.
  std::string encode() const;
  size_t encoded_bytes() const { return words_.size() * 8; }

 private:
  region_bitmap(uint64_t volume_bytes, uint32_t region_bytes);

  uint64_t volume_bytes_ = 0;
  uint32_t region_bytes_ = 0;
  uint64_t regions_ = 0;
  uint64_t count_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace vcube::esan
