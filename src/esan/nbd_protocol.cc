#include "esan/nbd_protocol.h"

#include <cassert>

namespace vcube::esan::nbd {
namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::span<const std::byte> in, size_t at, size_t bytes) {
  assert(at + bytes <= in.size());
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i)
    v = (v << 8) | std::to_integer<uint64_t>(in[at + i]);
  return v;
}

}  // namespace

void put_u16(std::string& out, uint16_t v) {
  put_be(out, v, 2);
}
void put_u32(std::string& out, uint32_t v) {
  put_be(out, v, 4);
}
void put_u64(std::string& out, uint64_t v) {
  put_be(out, v, 8);
}

uint16_t get_u16(std::span<const std::byte> in, size_t at) {
  return static_cast<uint16_t>(get_be(in, at, 2));
}
uint32_t get_u32(std::span<const std::byte> in, size_t at) {
  return static_cast<uint32_t>(get_be(in, at, 4));
}
uint64_t get_u64(std::span<const std::byte> in, size_t at) {
  return get_be(in, at, 8);
}

}  // namespace vcube::esan::nbd
