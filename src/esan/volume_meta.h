// A mirrored volume's metadata block: size, region size, generations, role,
// whether its data is consistent, where an interrupted resync resumes and a
// pending grow. One 4 KiB block with a magic, a version and a CRC32C, so a
// torn or foreign block is refused, never half-read. Pure codec; the volume
// store writes it with O_DSYNC before the data it describes is acknowledged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "esan/generations.h"

namespace vcube::esan {

inline constexpr size_t meta_block_bytes = 4096;
inline constexpr uint32_t meta_version = 1;

enum class volume_role { secondary, primary };

struct volume_meta {
  uint64_t size_bytes = 0;
  uint32_t region_bytes = 0;
  generations gens;
  volume_role role = volume_role::secondary;
  bool is_consistent = false;       // false before the initial sync and while a resync target
  uint64_t resync_cursor = 0;       // the next region an interrupted resync copies
  uint64_t pending_size_bytes = 0;  // a grow applied on the next activation; 0: none
  friend bool operator==(const volume_meta&, const volume_meta&) = default;
};

// Exactly meta_block_bytes.
std::string encode_meta(const volume_meta& meta);
// invalid_input naming what is wrong (size, magic, version, checksum, a field).
result<volume_meta> decode_meta(std::string_view block);

// CRC-32C (Castagnoli), as iSCSI and ext4 use it.
uint32_t crc32c(std::string_view bytes);

}  // namespace vcube::esan
