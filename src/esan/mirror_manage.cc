// The mirror's management operations behind the control socket: rate,
// resize, online verify and split-brain resolution (docs/esan.md).
#include <spdlog/spdlog.h>

#include <chrono>

#include "esan/mirror.h"

namespace vcube::esan {
namespace {

using namespace std::chrono_literals;

constexpr auto verify_reply_timeout = 30s;
constexpr int verify_looks = 5;
constexpr auto verify_look_interval = 20ms;
constexpr size_t first_differences_max = 16;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void mirror::set_rate(uint64_t rate_bytes_per_s) {
  std::lock_guard lock(mutex_);
  resync_options_.rate_bytes_per_s = rate_bytes_per_s;
  if (plan_)
    plan_->set_rate(rate_bytes_per_s, steady_ms());
  changed_.notify_all();  // a pacing wait looks again
}

void mirror::save_resync_cursor() {
  if (!is_full_sync_ || !plan_)
    return;
  volume_meta m = meta_->meta();
  m.resync_cursor = plan_->cursor();
  if (m.resync_cursor == meta_->meta().resync_cursor)
    return;
  if (auto s = meta_->set_meta(m); !s)
    message_ = s.err().message;
  else
    cursor_saved_ = m.resync_cursor;
}

// A hello with flag_update; without a peer there is nobody to tell.
void mirror::send_update() {
  (void)send_frame({repl::frame_type::hello, repl::flag_update, 0, my_hello()});
}

status mirror::resize(uint64_t size_bytes) {
  {
    std::lock_guard lock(mutex_);
    if (size_bytes < limits_.size_bytes)
      return make_error(errc::invalid_input,
                        "volumes only grow: " + std::to_string(size_bytes) + " is below " +
                            std::to_string(limits_.size_bytes) + " bytes",
                        "size");
    if (size_bytes == limits_.size_bytes)
      return ok_status();
    if (is_resizing_)
      return make_error(errc::conflict, "volume " + volume_ + " is being resized");
    is_resizing_ = true;
    message_ = "resizing";
  }
  detach_peer();  // its link dials again; peers are refused until this is done
  std::lock_guard lifecycle(lifecycle_mutex_);
  std::lock_guard lock(mutex_);
  is_resizing_ = false;
  if (auto s = data_->grow(size_bytes); !s)
    return s;
  if (auto s = meta_->grow(size_bytes); !s)
    return s;
  limits_.size_bytes = size_bytes;
  size_bytes_ = size_bytes;
  message_ = "grown to " + std::to_string(size_bytes) + " bytes";
  spdlog::info("mirror {}: grown to {} bytes", volume_, size_bytes);
  return ok_status();
}

status mirror::resolve_discard() {
  std::lock_guard lock(mutex_);
  if (fd_ >= 0)
    return make_error(errc::conflict, "volume " + volume_ + " is connected: nothing to resolve");
  if (!is_split_brain_)
    return make_error(errc::conflict, "volume " + volume_ +
                                          " is not in split brain (its last peer was not "
                                          "refused for it)");
  volume_meta m = meta_->meta();
  m.role = volume_role::secondary;
  m.is_consistent = false;
  m.gens = {};  // generation 0: the peer sends every region (a full sync)
  m.resync_cursor = 0;
  if (auto s = meta_->set_meta(m); !s)
    return s;
  is_split_brain_ = false;
  message_ =
      "split brain resolved: this side's data is discarded; the next connection copies "
      "every region from the peer";
  spdlog::warn("mirror {}: {}", volume_, message_);
  return ok_status();
}

// ---------------------------------------------------------------- online verify

status mirror::start_verify() {
  std::lock_guard lifecycle(lifecycle_mutex_);
  std::lock_guard lock(mutex_);
  if (fd_ < 0 || !is_established_)
    return make_error(errc::conflict,
                      "volume " + volume_ + " has no connected peer to verify with");
  if (verify_.state == "running")
    return make_error(errc::conflict, "a verify of volume " + volume_ + " is running");
  if (is_resync_source_ || is_resync_target_)
    return make_error(errc::conflict, "volume " + volume_ + " is resyncing; verify afterwards");
  if (verifier_.joinable())
    verifier_.join();  // an earlier verify has finished
  verify_ = mirror_verify{"running", 0, 0, 0, {}, ""};
  verifier_ = std::thread([this] { verify_loop(); });
  return ok_status();
}

// The peer's hash of a range; nullopt when the peer is lost or silent.
std::optional<uint64_t> mirror::peer_hash(uint64_t offset, uint64_t length) {
  uint64_t seq, epoch;
  {
    std::lock_guard lock(mutex_);
    if (fd_ < 0)
      return std::nullopt;
    seq = next_seq_++;
    epoch = peer_epoch_;
    verify_pending_[seq] = std::nullopt;
  }
  auto sent = send_frame({repl::frame_type::verify_request, 0, seq, repl::extent{offset, length}});
  std::unique_lock lock(mutex_);
  if (sent)
    changed_.wait_for(lock, verify_reply_timeout,
                      [&] { return verify_pending_.at(seq).has_value() || peer_epoch_ != epoch; });
  auto hash = verify_pending_.at(seq);
  verify_pending_.erase(seq);
  return hash;
}

// One region at a time: this side's hash against the peer's, paced by the
// resync rate. Differences are reported, never repaired here.
void mirror::verify_loop() {
  const uint64_t region = limits_.region_bytes, size = limits_.size_bytes;
  const uint64_t regions = (size + region - 1) / region;
  const int64_t started_ms = steady_ms();
  uint64_t verified_bytes = 0;
  std::string buf;
  std::string failure;
  for (uint64_t r = 0; r < regions && failure.empty(); ++r) {
    {
      std::unique_lock lock(mutex_);
      // Pacing: at `rate` bytes per second since the start (0: unlimited).
      while (fd_ >= 0 && !is_stopping_ && resync_options_.rate_bytes_per_s != 0) {
        int64_t due_ms = started_ms + static_cast<int64_t>(verified_bytes * 1000 /
                                                           resync_options_.rate_bytes_per_s);
        if (steady_ms() >= due_ms)
          break;
        changed_.wait_for(lock, std::chrono::milliseconds(due_ms - steady_ms()));
      }
      if (fd_ < 0 || is_stopping_) {
        failure = "the peer connection was lost";
        break;
      }
    }
    uint64_t offset = r * region, length = std::min(region, size - offset);
    // A write in flight between the two reads makes a region differ for a
    // moment: only a difference seen on every one of several looks counts.
    uint64_t mine = 0;
    std::optional<uint64_t> theirs;
    for (int look = 0; look < verify_looks && failure.empty(); ++look) {
      if (look > 0)
        std::this_thread::sleep_for(verify_look_interval);  // let in-flight writes land
      buf.assign(length, '\0');
      auto read = data_->read(offset, std::as_writable_bytes(std::span(buf.data(), buf.size())));
      if (!read) {
        failure = read.err().message;
        break;
      }
      mine = repl::verify_hash(buf);
      theirs = peer_hash(offset, length);
      if (!theirs)
        failure = "the peer did not answer a verify request";
      else if (*theirs == mine)
        break;
    }
    if (!failure.empty())
      break;
    verified_bytes += length;
    std::lock_guard lock(mutex_);
    verify_.percent = static_cast<int>(verified_bytes * 100 / size);
    if (*theirs != mine) {
      ++verify_.differing_regions;
      verify_.differing_bytes += length;
      if (verify_.first_differences.size() < first_differences_max)
        verify_.first_differences.push_back(offset);
    }
  }
  std::lock_guard lock(mutex_);
  verify_.state = failure.empty() ? "done" : "failed";
  verify_.message = failure;
  spdlog::info("mirror {}: verify {}: {} regions differ ({} bytes){}", volume_, verify_.state,
               verify_.differing_regions, verify_.differing_bytes,
               failure.empty() ? "" : ": " + failure);
}

// A verify_request from the peer: the hash of our copy of the range.
void mirror::answer_verify(const repl::frame& f) {
  const auto& e = std::get<repl::extent>(f.body);
  std::string buf(e.length, '\0');
  auto read = data_->read(e.offset, std::as_writable_bytes(std::span(buf.data(), buf.size())));
  // A failed read answers a hash no data has (the region counts as differing).
  uint64_t hash = read ? repl::verify_hash(buf) : ~repl::verify_hash(buf);
  (void)send_frame(
      {repl::frame_type::verify_reply, 0, f.seq, repl::digest{e.offset, e.length, hash}});
}

}  // namespace vcube::esan
