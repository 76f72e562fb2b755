#include "esan/volume_meta.h"

#include <array>
#include <bit>

#include "esan/region_bitmap.h"

namespace vcube::esan {
namespace {

constexpr std::string_view magic = "VCUBEESM";
constexpr size_t crc_at = meta_block_bytes - 4;
constexpr uint32_t flag_primary = 1;
constexpr uint32_t flag_consistent = 2;
constexpr uint32_t known_flags = flag_primary | flag_consistent;

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

void put(std::string& out, size_t at, uint64_t value, int bytes) {
  for (int b = 0; b < bytes; ++b)
    out[at + b] = static_cast<char>((value >> (8 * b)) & 0xff);
}

uint64_t get(std::string_view in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int b = 0; b < bytes; ++b)
    value |= uint64_t(static_cast<unsigned char>(in[at + b])) << (8 * b);
  return value;
}

error invalid(const std::string& what) {
  return error{errc::invalid_input, "volume metadata: " + what, ""};
}

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  static const auto table = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes)
    c = table[(c ^ static_cast<unsigned char>(ch)) & 0xff] ^ (c >> 8);
  return ~c;
}

std::string encode_meta(const volume_meta& meta) {
  std::string out(meta_block_bytes, '\0');
  out.replace(0, magic.size(), magic);
  uint32_t flags = (meta.role == volume_role::primary ? flag_primary : 0) |
                   (meta.is_consistent ? flag_consistent : 0);
  put(out, 8, meta_version, 4);
  put(out, 12, flags, 4);
  put(out, 16, meta.size_bytes, 8);
  put(out, 24, meta.region_bytes, 4);
  put(out, 32, meta.gens.current, 8);
  put(out, 40, meta.gens.bitmap, 8);
  put(out, 48, meta.gens.history[0], 8);
  put(out, 56, meta.gens.history[1], 8);
  put(out, 64, meta.resync_cursor, 8);
  put(out, 72, meta.pending_size_bytes, 8);
  put(out, crc_at, crc32c(std::string_view(out).substr(0, crc_at)), 4);
  return out;
}

result<volume_meta> decode_meta(std::string_view block) {
  if (block.size() != meta_block_bytes)
    return invalid("the block has " + std::to_string(block.size()) + " bytes, not 4096");
  if (block.substr(0, magic.size()) != magic)
    return invalid("no vcube eSAN metadata here (magic)");
  if (get(block, crc_at, 4) != crc32c(block.substr(0, crc_at)))
    return invalid("checksum mismatch (a torn or damaged block)");
  if (uint64_t version = get(block, 8, 4); version != meta_version)
    return invalid("version " + std::to_string(version) + " is not supported");
  uint64_t flags = get(block, 12, 4);
  if (flags & ~uint64_t(known_flags))
    return invalid("unknown flags " + std::to_string(flags));
  volume_meta meta;
  meta.role = (flags & flag_primary) ? volume_role::primary : volume_role::secondary;
  meta.is_consistent = (flags & flag_consistent) != 0;
  meta.size_bytes = get(block, 16, 8);
  meta.region_bytes = static_cast<uint32_t>(get(block, 24, 4));
  meta.gens.current = get(block, 32, 8);
  meta.gens.bitmap = get(block, 40, 8);
  meta.gens.history = {get(block, 48, 8), get(block, 56, 8)};
  meta.resync_cursor = get(block, 64, 8);
  meta.pending_size_bytes = get(block, 72, 8);
  if (meta.region_bytes < region_bytes_min || meta.region_bytes > region_bytes_max ||
      !std::has_single_bit(meta.region_bytes))
    return invalid("region size " + std::to_string(meta.region_bytes) + " is invalid");
  uint64_t regions = (meta.size_bytes + meta.region_bytes - 1) / meta.region_bytes;
  if (meta.resync_cursor > regions)
    return invalid("resync cursor " + std::to_string(meta.resync_cursor) +
                   " is past the last region");
  if (meta.pending_size_bytes != 0 && meta.pending_size_bytes < meta.size_bytes)
    return invalid("a pending size below the current size (volumes only grow)");
  return meta;
}

}  // namespace vcube::esan
