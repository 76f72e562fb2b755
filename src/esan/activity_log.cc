#include "esan/activity_log.h"

#include <cassert>

#include "esan/volume_meta.h"

namespace vcube::esan {
namespace {

constexpr std::string_view al_magic = "VCUBEEAL";
constexpr size_t header_bytes = 8 + 8 + 4 + 4;  // magic, seq, flags, count
constexpr size_t extents_fit = (al_block_bytes - header_bytes - 4) / 8;
static_assert(al_extents_max <= extents_fit);

void put(std::string& out, size_t at, uint64_t value, int bytes) {
  for (int b = 0; b < bytes; ++b)
    out[at + b] = static_cast<char>((value >> (8 * b)) & 0xff);
}

uint64_t get(std::string_view in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int b = bytes - 1; b >= 0; --b)
    value = (value << 8) | static_cast<unsigned char>(in[at + b]);
  return value;
}

std::pair<uint64_t, uint64_t> extent_span(uint64_t offset, uint64_t length) {
  return {offset / al_extent_bytes, (offset + length - 1) / al_extent_bytes};
}

}  // namespace

std::string encode_al(const al_record& r) {
  assert(r.extents.size() <= extents_fit);
  std::string out(al_block_bytes, '\0');
  out.replace(0, 8, al_magic);
  put(out, 8, r.seq, 8);
  put(out, 16, r.is_recovering ? 1 : 0, 4);
  put(out, 20, r.extents.size(), 4);
  for (size_t i = 0; i < r.extents.size(); ++i)
    put(out, header_bytes + 8 * i, r.extents[i], 8);
  put(out, al_block_bytes - 4, crc32c(std::string_view(out).substr(0, al_block_bytes - 4)), 4);
  return out;
}

result<al_record> decode_al(std::string_view block) {
  auto bad = [](const std::string& why) {
    return make_error(errc::invalid_input, "activity log: " + why);
  };
  if (block.size() != al_block_bytes)
    return bad("a block is 4096 bytes");
  if (block.substr(0, 8) != al_magic)
    return bad("no activity log here");
  if (get(block, al_block_bytes - 4, 4) != crc32c(block.substr(0, al_block_bytes - 4)))
    return bad("checksum mismatch (a torn write)");
  al_record r;
  r.seq = get(block, 8, 8);
  uint64_t flags = get(block, 16, 4), count = get(block, 20, 4);
  if (flags > 1 || count > extents_fit)
    return bad("impossible flags or extent count");
  r.is_recovering = flags == 1;
  for (size_t i = 0; i < count; ++i)
    r.extents.push_back(get(block, header_bytes + 8 * i, 8));
  return r;
}

activity_log::activity_log(size_t extents_max, size_t lookahead_extents)
    : extents_max_(extents_max), lookahead_extents_(lookahead_extents) {
  assert(extents_max_ > 0 && extents_max_ <= extents_fit);
  assert(lookahead_extents_ < extents_max_);
}

// Idle, recently begun extents after `last`; each takes a free slot or the
// least recently used idle extent (never one of the write's, which are in
// flight, nor one just looked ahead).
void activity_log::look_ahead(uint64_t last) {
  for (uint64_t e = last + 1; e <= last + lookahead_extents_; ++e) {
    if (index_.count(e))
      continue;
    if (lru_.size() >= extents_max_) {
      auto victim = lru_.end();
      for (auto it = lru_.begin(); it != lru_.end(); ++it)
        if (it->in_flight == 0 && (it->extent <= last || it->extent > last + lookahead_extents_))
          victim = it;  // the last match is the least recently used
      if (victim == lru_.end())
        return;
      index_.erase(victim->extent);
      lru_.erase(victim);
    }
    lru_.push_front({e, 0});
    index_[e] = lru_.begin();
  }
}

bool activity_log::overlaps_in_flight(uint64_t offset, uint64_t length) const {
  auto after = writing_.lower_bound(offset + length);  // the first that starts at or past the end
  return after != writing_.begin() && std::prev(after)->second > offset;
}

std::optional<bool> activity_log::begin(uint64_t offset, uint64_t length) {
  if (length == 0)
    return false;
  if (overlaps_in_flight(offset, length))
    return std::nullopt;
  auto [first, last] = extent_span(offset, length);
  assert(last - first < extents_max_);  // a write spans at most a few extents
  size_t missing = 0;
  for (uint64_t e = first; e <= last; ++e)
    missing += index_.count(e) ? 0 : 1;
  // Room: free slots, plus idle extents outside this write (oldest first).
  size_t room = extents_max_ - lru_.size();
  for (auto it = lru_.rbegin(); it != lru_.rend() && room < missing; ++it)
    if (it->in_flight == 0 && (it->extent < first || it->extent > last))
      ++room;
  if (room < missing)
    return std::nullopt;
  while (lru_.size() + missing > extents_max_) {
    auto victim = std::prev(lru_.end());
    while (victim->in_flight != 0 || (victim->extent >= first && victim->extent <= last))
      --victim;
    index_.erase(victim->extent);
    lru_.erase(victim);
  }
  for (uint64_t e = first; e <= last; ++e) {
    auto found = index_.find(e);
    if (found == index_.end()) {
      lru_.push_front({e, 1});
    } else {
      uint32_t n = found->second->in_flight + 1;
      lru_.erase(found->second);
      lru_.push_front({e, n});
    }
    index_[e] = lru_.begin();
  }
  if (missing > 0 && lookahead_extents_ > 0 && first > 0 && index_.count(first - 1))
    look_ahead(last);
  writing_[offset] = offset + length;
  return missing > 0;
}

bool activity_log::begin_if_hot(uint64_t offset, uint64_t length) {
  if (length == 0)
    return true;
  if (overlaps_in_flight(offset, length))
    return false;
  auto [first, last] = extent_span(offset, length);
  for (uint64_t e = first; e <= last; ++e)
    if (!index_.count(e))
      return false;
  [[maybe_unused]] const auto changed = begin(offset, length);
  assert(changed && !*changed);
  return true;
}

void activity_log::end(uint64_t offset, uint64_t length) {
  if (length == 0)
    return;
  [[maybe_unused]] const size_t erased = writing_.erase(offset);
  assert(erased == 1);
  auto [first, last] = extent_span(offset, length);
  for (uint64_t e = first; e <= last; ++e) {
    auto found = index_.find(e);
    assert(found != index_.end() && found->second->in_flight > 0);
    --found->second->in_flight;
  }
}

std::vector<uint64_t> activity_log::extents() const {
  std::vector<uint64_t> out;
  for (const auto& s : lru_)
    out.push_back(s.extent);
  return out;
}

size_t activity_log::in_flight() const {
  size_t n = 0;
  for (const auto& s : lru_)
    n += s.in_flight;
  return n;
}

}  // namespace vcube::esan
