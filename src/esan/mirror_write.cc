// A mirror's write path (docs/esan.md, "Mirror" and "Write path"): the
// activity log around a primary's writes, replication with a waiting thread
// (write, trim, write_zeroes, flush) and without one (start_write), and what
// happens to a write the peer did not take (track, fencing).
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <mutex>
#include <random>

#include "esan/mirror.h"
#include "esan/send_all.h"

namespace vcube::esan {
namespace {

using namespace std::chrono_literals;

constexpr auto ack_timeout = 30s;
// Larger writes take write(): they are bound by bandwidth, not hand-offs,
// and their frames must not make the event loop wait for the link.
constexpr uint64_t started_write_bytes_max = 64u << 10;

uint64_t fresh_id() {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mutex);
  uint64_t id = 0;
  while (id == 0)
    id = rng();
  return id;
}

// Whether a frame of `bytes` (at most started_write_bytes_max) can be sent
// without waiting for the peer: nothing is queued (the peer took all, so at
// worst a short wait for its TCP acks), or it fits the send buffer with room
// to spare (the kernel counts its overhead too, hence the factor 2).
bool has_send_room(int fd, uint64_t bytes) {
  int queued = 0;
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0)
    return false;
  if (queued == 0)
    return true;
  int buffer = 0;
  socklen_t length = sizeof buffer;
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0 || buffer < 0)
    return false;
  return (static_cast<uint64_t>(queued) + bytes) * 2 <= static_cast<uint64_t>(buffer);
}

}  // namespace

status mirror::al_begin(uint64_t offset, uint64_t length) {
  std::unique_lock lock(al_mutex_);
  while (true) {
    auto changed = al_.begin(offset, length);
    if (changed && !*changed && !is_al_unpersisted_)
      return ok_status();  // every extent is hot and on disk: nothing to persist
    if (changed) {
      std::lock_guard meta_lock(mutex_);
      auto s = meta_->write_activity({0, is_recovering_locked(), al_.extents()});
      // A failed record leaves the new extent hot in memory only: without
      // this, the next write to it would go ahead unrecorded, and a crash
      // would not resync it.
      is_al_unpersisted_ = !s;
      if (!s)
        al_.end(offset, length);
      return s;
    }
    al_room_.wait(lock);  // every extent is busy: an al_end makes room
  }
}

void mirror::al_end(uint64_t offset, uint64_t length) {
  std::lock_guard lock(al_mutex_);
  al_.end(offset, length);
  al_room_.notify_all();
}

// ---------------------------------------------------------------- data path

status mirror::read(uint64_t offset, std::span<std::byte> out) {
  return data_->read(offset, out);
}

status mirror::send_frame(const repl::frame& f) {
  std::string bytes = repl::encode(f);
  return send_bytes(bytes, {});
}

status mirror::send_data(repl::frame_type type, uint16_t flags, uint64_t seq, uint64_t offset,
                         std::span<const std::byte> data) {
  return send_bytes(repl::encode_data_prefix(type, flags, seq, offset, data.size()), data);
}

// One frame: `head` then `tail`, in one sendmsg without copying the tail,
// and never interleaved with another sender's frame.
status mirror::send_bytes(std::string_view head, std::span<const std::byte> tail) {
  std::lock_guard send_lock(send_mutex_);
  int fd;
  {
    std::lock_guard lock(mutex_);
    fd = fd_;
  }
  if (fd < 0)
    return make_error(errc::unavailable, "no peer");
  return send_all(fd, head, tail);
}

std::optional<uint64_t> mirror::reserve_seq() {
  std::lock_guard lock(mutex_);
  if (fd_ < 0 || !is_established_)
    return std::nullopt;
  uint64_t seq = next_seq_++;
  pending_[seq] = std::nullopt;
  return seq;
}

std::optional<uint64_t> mirror::sent_or_released(uint64_t seq, const status& sent) {
  if (sent)
    return seq;
  std::lock_guard lock(mutex_);
  pending_.erase(seq);
  return std::nullopt;
}

std::optional<uint64_t> mirror::start_replicate(repl::frame f) {
  auto seq = reserve_seq();
  if (!seq)
    return std::nullopt;
  f.seq = *seq;
  return sent_or_released(*seq, send_frame(f));
}

std::optional<uint64_t> mirror::start_replicate_data(repl::frame_type type, uint16_t flags,
                                                     uint64_t offset,
                                                     std::span<const std::byte> data) {
  auto seq = reserve_seq();
  if (!seq)
    return std::nullopt;
  return sent_or_released(*seq, send_data(type, flags, *seq, offset, data));
}

std::optional<status> mirror::wait_replicated(std::optional<uint64_t> seq) {
  if (!seq)
    return std::nullopt;
  std::unique_lock lock(mutex_);
  bool is_answered = changed_.wait_for(lock, ack_timeout,
                                       [&] { return pending_.at(*seq).has_value() || fd_ < 0; });
  auto answer = pending_.at(*seq);
  pending_.erase(*seq);
  if (!is_answered && fd_ >= 0) {
    lock.unlock();
    peer_lost("the peer did not acknowledge a write within 30 s");
  }
  return answer;
}

status mirror::track(uint64_t offset, uint64_t length, std::optional<status> replicated) {
  if (replicated && *replicated)
    return ok_status();
  // The peer does not have it: the region goes into the bitmap before the
  // write is acknowledged.
  std::unique_lock lock(mutex_);
  if (auto s = meta_->mark(offset, length); !s)
    return s;
  // Fencing: the peer may still be promoted with data that lacks this
  // write, so it is acknowledged only once the cluster has marked the peer
  // outdated (outdate_peer) or the peer is back (attach_peer counted the
  // bitmap in; the peer is a resync target until it has the region).
  changed_.wait(lock, [&] { return !is_suspended_locked() || is_closed_; });
  if (is_suspended_locked())
    return make_error(errc::unavailable, "volume " + volume_ +
                                             " was stopped while its writes waited for the "
                                             "peer to be marked outdated");
  if (is_established_)
    return ok_status();
  // Acknowledged without the peer: the generations say this side moved on.
  // Only now: a write held until this node was fenced was never
  // acknowledged, and its return must not look like a split brain.
  return note_moved_on_locked();
}

status mirror::note_moved_on_locked() {
  if (meta_->meta().gens.bitmap != 0 || meta_->meta().gens.current == 0)
    return ok_status();
  volume_meta m = meta_->meta();
  m.gens = on_peer_lost(m.gens, fresh_id());
  return meta_->set_meta(m);
}

bool mirror::is_suspended_locked() const {
  return is_fencing_ && !is_established_ && !is_peer_outdated_ &&
         meta_->meta().role == volume_role::primary;
}

void mirror::set_fencing(bool is_on) {
  std::lock_guard lock(mutex_);
  is_fencing_ = is_on;
  changed_.notify_all();
}

status mirror::outdate_peer() {
  std::lock_guard lock(mutex_);
  if (is_established_)
    return make_error(errc::conflict, "volume " + volume_ + " is connected to its peer");
  is_peer_outdated_ = true;
  changed_.notify_all();
  return ok_status();
}

bool mirror::is_primary() const {
  std::lock_guard lock(mutex_);
  return meta_->meta().role == volume_role::primary;
}

status mirror::write(uint64_t offset, std::span<const std::byte> data, bool is_fua) {
  if (!is_primary())
    return make_error(errc::forbidden, "volume " + volume_ + " is secondary here");
  if (auto s = al_begin(offset, data.size()); !s)
    return s;
  auto done = write_logged(offset, data, is_fua);
  al_end(offset, data.size());
  return done;
}

status mirror::trim(uint64_t offset, uint64_t length, bool is_fua) {
  if (!is_primary())
    return make_error(errc::forbidden, "volume " + volume_ + " is secondary here");
  if (auto s = al_begin(offset, length); !s)
    return s;
  auto done = trim_logged(offset, length, is_fua);
  al_end(offset, length);
  return done;
}

status mirror::write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) {
  if (!is_primary())
    return make_error(errc::forbidden, "volume " + volume_ + " is secondary here");
  if (auto s = al_begin(offset, length); !s)
    return s;
  auto done = write_zeroes_logged(offset, length, may_punch, is_fua);
  al_end(offset, length);
  return done;
}

status mirror::write_logged(uint64_t offset, std::span<const std::byte> data, bool is_fua) {
  // A frame carries at most data_bytes_max: a larger NBD write (up to 32
  // MiB) goes as several frames, all sent before the local write starts.
  const uint16_t flags = is_fua ? repl::flag_fua : uint16_t(0);
  std::vector<std::optional<uint64_t>> seqs;
  for (size_t at = 0; at < data.size(); at += repl::data_bytes_max) {
    auto part = data.subspan(at, std::min<size_t>(repl::data_bytes_max, data.size() - at));
    seqs.push_back(start_replicate_data(repl::frame_type::write, flags, offset + at, part));
  }
  auto local = data_->write(offset, data, is_fua);
  std::optional<status> replicated = ok_status();
  for (auto seq : seqs) {
    auto one = wait_replicated(seq);
    if (replicated && *replicated && !(one && *one))
      replicated = one;  // the first part the peer lacks: the whole range is tracked
  }
  return after_write(offset, data.size(), local, replicated);
}

status mirror::after_write(uint64_t offset, uint64_t length, const status& local,
                           std::optional<status> replicated) {
  {
    std::lock_guard lock(mutex_);
    if (plan_)
      plan_->mark(offset, length);  // a copy in flight may be older than this
    if (!local) {
      // The sides may differ now. A failed write acknowledges nothing, so
      // its error is not held for fencing.
      (void)meta_->mark(offset, length);
      return local;
    }
  }
  return track(offset, length, replicated);
}

status mirror::flush() {
  auto seq = start_replicate({repl::frame_type::flush, 0, 0, repl::empty{}});
  auto local = data_->flush();
  (void)wait_replicated(seq);  // a lost peer's writes are in the bitmap already
  return local;
}

status mirror::trim_logged(uint64_t offset, uint64_t length, bool is_fua) {
  auto seq = start_replicate({repl::frame_type::trim, 0, 0, repl::extent{offset, length}});
  auto local = data_->trim(offset, length, is_fua);
  auto replicated = wait_replicated(seq);
  return local ? track(offset, length, replicated) : local;
}

status mirror::write_zeroes_logged(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) {
  auto seq = start_replicate({repl::frame_type::write_zeroes, 0, 0, repl::extent{offset, length}});
  auto local = data_->write_zeroes(offset, length, may_punch, is_fua);
  auto replicated = wait_replicated(seq);
  return local ? track(offset, length, replicated) : local;
}

// ---------------------------------------------------------------- without a waiting thread

bool mirror::start_write(uint64_t offset, std::span<const std::byte> data, bool is_fua,
                         write_done& done, const blocking_runner& run) {
  if (data.empty() || data.size() > started_write_bytes_max)
    return false;
  {
    // Taken while a record is written: that write goes on in write().
    std::unique_lock al_lock(al_mutex_, std::try_to_lock);
    if (!al_lock.owns_lock() || is_al_unpersisted_ || !al_.begin_if_hot(offset, data.size()))
      return false;
  }
  // Held by another sender (a resync frame, a large write): write() waits.
  std::unique_lock send_lock(send_mutex_, std::try_to_lock);
  int fd = -1;
  uint64_t seq = 0;
  if (send_lock.owns_lock()) {
    std::lock_guard lock(mutex_);
    if (meta_->meta().role == volume_role::primary && fd_ >= 0 && is_established_ &&
        has_send_room(fd_, repl::header_bytes + 8 + data.size())) {
      fd = fd_;
      seq = next_seq_++;
      started_[seq] = {offset,
                       data,
                       is_fua,
                       std::move(done),
                       std::nullopt,
                       std::nullopt,
                       std::chrono::steady_clock::now()};
    }
  }
  if (fd < 0) {
    al_end(offset, data.size());
    return false;
  }
  if (is_fua) {
    run([this, seq, offset, data] {
      const status local = data_->write(offset, data, true);
      std::optional<started_write> ready;
      {
        std::lock_guard lock(mutex_);
        ready = settle_locked(seq, local, std::nullopt);
      }
      if (ready)
        finish_started(std::move(*ready));
    });
  }
  // The fd stays open while send_mutex_ is held (receive_loop closes it
  // under it); a lost peer's shutdown makes this fail at once.
  const uint16_t flags = is_fua ? repl::flag_fua : uint16_t(0);
  const status sent = send_all(
      fd, repl::encode_data_prefix(repl::frame_type::write, flags, seq, offset, data.size()), data);
  send_lock.unlock();
  if (!sent) {
    std::optional<started_write> ready;
    {
      std::lock_guard lock(mutex_);
      ready = settle_locked(seq, std::nullopt, sent);
    }
    if (ready)
      finish_started(std::move(*ready));
  }
  return true;
}

std::optional<mirror::started_write> mirror::settle_locked(uint64_t seq,
                                                           std::optional<status> local,
                                                           std::optional<status> replicated) {
  auto it = started_.find(seq);
  if (it == started_.end())
    return std::nullopt;
  started_write& w = it->second;
  if (local)
    w.local = std::move(local);
  if (replicated && !w.replicated)  // the first answer counts (an ack, or the loss)
    w.replicated = std::move(replicated);
  if (!w.replicated || (w.is_fua && !w.local))
    return std::nullopt;
  started_write out = std::move(w);
  started_.erase(it);
  return out;
}

void mirror::finish_started(started_write w) {
  const bool is_clean = *w.replicated && (!w.local || *w.local);
  auto finish = [this](started_write& w) {
    if (!w.local)
      w.local = data_->write(w.offset, w.data, w.is_fua);
    const status outcome = after_write(w.offset, w.data.size(), *w.local, w.replicated);
    al_end(w.offset, w.data.size());
    write_done done = std::move(w.done);
    done(outcome);  // the last touch: it may release this mirror
  };
  if (is_clean)
    finish(w);  // at most a page-cache write: nothing waits for long
  else
    finisher_.post([finish, w = std::move(w)]() mutable { finish(w); });
}

bool mirror::has_overdue_write_locked(std::chrono::steady_clock::time_point now) const {
  for (const auto& [seq, w] : started_)
    if (!w.replicated && now - w.sent_at >= ack_timeout)
      return true;
  return false;
}

}  // namespace vcube::esan
