#include "esan/resync_plan.h"

#include <algorithm>

namespace vcube::esan {

resync_plan::resync_plan(region_bitmap bitmap, uint64_t cursor, resync_options options,
                         int64_t now_ms)
    : bitmap_(std::move(bitmap)),
      options_(options),
      scan_(std::min(cursor, bitmap_.regions())),
      total_bytes_(bitmap_.dirty_bytes()),
      last_ms_(now_ms) {
  // Regions below the cursor were copied before an interruption; anything set
  // there since (a write while disconnected) is found when the walk wraps.
  tokens_ = static_cast<double>(options_.rate_bytes_per_s) * options_.burst_ms / 1000.0;
}

void resync_plan::refill(int64_t now_ms) {
  if (options_.rate_bytes_per_s == 0)
    return;
  double cap = static_cast<double>(options_.rate_bytes_per_s) * options_.burst_ms / 1000.0;
  int64_t elapsed = std::max<int64_t>(0, now_ms - last_ms_);  // a clock going back adds nothing
  last_ms_ = std::max(last_ms_, now_ms);
  tokens_ =
      std::min(cap, tokens_ + static_cast<double>(options_.rate_bytes_per_s) * elapsed / 1000.0);
}

std::vector<uint64_t> resync_plan::next(int64_t now_ms) {
  refill(now_ms);
  std::vector<uint64_t> out;
  bool has_wrapped = false;
  while (in_flight_.size() < options_.max_in_flight) {
    auto region = bitmap_.next_set(scan_);
    if (!region) {
      if (has_wrapped || scan_ == 0)
        break;
      scan_ = 0;  // regions set again behind the walk
      has_wrapped = true;
      continue;
    }
    if (in_flight_.count(*region)) {
      scan_ = *region + 1;
      continue;
    }
    double cost = static_cast<double>(bitmap_.region_length(*region));
    if (options_.rate_bytes_per_s != 0) {
      // A bucket short of one region still lets it through when nothing is
      // in flight and it is not in debt, so a rate below one region per
      // burst makes progress (the debt then delays the next one).
      bool is_alone = in_flight_.empty() && out.empty() && tokens_ >= 0;
      if (tokens_ < cost && !is_alone)
        break;
      tokens_ -= cost;
    }
    in_flight_.insert(*region);
    out.push_back(*region);
    scan_ = *region + 1;
  }
  return out;
}

void resync_plan::done(uint64_t region) {
  if (!in_flight_.erase(region))
    return;
  if (rewritten_.erase(region))
    scan_ = std::min(scan_, region);  // written while in flight: the copy may be old
  else
    bitmap_.clear(region);
}

void resync_plan::failed(uint64_t region) {
  if (in_flight_.erase(region))
    scan_ = std::min(scan_, region);
  rewritten_.erase(region);
}

void resync_plan::mark(uint64_t offset, uint64_t length) {
  uint64_t before = bitmap_.count();
  bitmap_.mark(offset, length);
  total_bytes_ += (bitmap_.count() - before) * bitmap_.region_bytes();
  if (length == 0 || offset >= bitmap_.volume_bytes())
    return;
  uint64_t end =
      length > bitmap_.volume_bytes() - offset ? bitmap_.volume_bytes() : offset + length;
  for (uint64_t r = offset / bitmap_.region_bytes(); r <= (end - 1) / bitmap_.region_bytes(); ++r)
    if (in_flight_.count(r))
      rewritten_.insert(r);
  scan_ = std::min(scan_, offset / bitmap_.region_bytes());
}

void resync_plan::set_rate(uint64_t rate_bytes_per_s, int64_t now_ms) {
  refill(now_ms);
  options_.rate_bytes_per_s = rate_bytes_per_s;
  double cap = static_cast<double>(rate_bytes_per_s) * options_.burst_ms / 1000.0;
  tokens_ = std::min(tokens_, cap);
  last_ms_ = std::max(last_ms_, now_ms);
}

uint64_t resync_plan::cursor() const {
  auto first = bitmap_.next_set(0);
  return first ? *first : bitmap_.regions();
}

int resync_plan::percent() const {
  if (total_bytes_ == 0)
    return 100;
  uint64_t left = std::min(remaining_bytes(), total_bytes_);
  return static_cast<int>((total_bytes_ - left) * 100 / total_bytes_);
}

}  // namespace vcube::esan
