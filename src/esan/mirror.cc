#include "esan/mirror.h"

#include "esan/apply_worker.h"
#include "esan/send_all.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

namespace vcube::esan {
namespace {

using namespace std::chrono_literals;

constexpr auto keepalive_idle = 1s;
constexpr auto peer_silence_max = 5s;
constexpr auto hello_timeout_s = 10;
constexpr auto resync_idle_wait = 20ms;  // pacing: the rate limit's next token

// Reads frames until one is complete (the hello), within the socket's timeout.
result<repl::frame> read_one(int fd, repl::frame_decoder& decoder) {
  char buf[4096];
  while (true) {
    auto f = decoder.next();
    if (!f)
      return f.err();
    if (*f)
      return std::move(**f);
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return make_error(errc::unavailable, "the peer closed before its hello");
    if (auto s = decoder.feed(std::string_view(buf, static_cast<size_t>(n))); !s)
      return s.err();
  }
}

// After a crash the extents of the activity log may differ between the
// sides: they go into the bitmap, and the log says it is recovering until a
// resync has copied them (peer_rules). No valid record at all on a primary
// (both torn, or a file from before the log): every region.
status recover_activity(meta_file& meta, const std::string& volume) {
  const auto& record = meta.activity();
  bool is_recovering = record && record->is_recovering;
  if (!record && meta.meta().role == volume_role::primary) {
    spdlog::warn("mirror {}: no activity log: every region is resynced", volume);
    if (auto s = meta.mark(0, meta.meta().size_bytes); !s)
      return s;
    is_recovering = true;
  } else if (record && !record->extents.empty()) {
    spdlog::warn("mirror {}: not closed cleanly: the {} extents of its activity log are resynced",
                 volume, record->extents.size());
    for (uint64_t e : record->extents)
      if (auto s = meta.mark(e * al_extent_bytes, al_extent_bytes); !s)
        return s;
    is_recovering = true;
  }
  if (record && record->extents.empty() && record->is_recovering == is_recovering)
    return ok_status();
  return meta.write_activity({0, is_recovering, {}});
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace

mirror::mirror(std::string volume, std::unique_ptr<file_backend> data,
               std::unique_ptr<meta_file> meta, resync_options resync)
    : volume_(std::move(volume)),
      limits_({meta->meta().size_bytes, meta->meta().region_bytes}),
      size_bytes_(meta->meta().size_bytes),
      data_(std::move(data)),
      meta_(std::move(meta)),
      resync_options_(resync) {}

result<std::unique_ptr<mirror>> mirror::open(std::string volume, const std::string& data_path,
                                             const std::string& meta_path, resync_options resync) {
  auto data = file_backend::open(data_path, false);
  if (!data)
    return data.err();
  auto meta = meta_file::open(meta_path);
  if (!meta)
    return meta.err();
  if ((*data)->size_bytes() < (*meta)->meta().size_bytes)
    return make_error(errc::invalid_input, data_path + " is smaller than the volume's " +
                                               std::to_string((*meta)->meta().size_bytes) +
                                               " bytes");
  if (auto s = recover_activity(**meta, volume); !s)
    return s.err();
  return std::unique_ptr<mirror>(
      new mirror(std::move(volume), std::move(*data), std::move(*meta), resync));
}

mirror::~mirror() {
  stop();  // a held write fails (never acknowledged), so finisher_ ends
  // A clean close: no write is in flight, the log is empty on disk.
  std::lock_guard lock(mutex_);
  if (!meta_->activity() || !meta_->activity()->extents.empty())
    (void)meta_->write_activity({0, is_recovering_locked(), {}});
}

bool mirror::is_recovering_locked() const {
  return meta_->activity() && meta_->activity()->is_recovering;
}

void mirror::end_recovery_locked(bool is_target) {
  if (is_target) {  // this side holds the source's data: its own marks are void
    for (auto r = meta_->bitmap().next_set(0); r; r = meta_->bitmap().next_set(*r + 1))
      meta_->clear(*r);
    (void)meta_->flush_bitmap();
  }
  if (!is_recovering_locked())
    return;
  if (auto s = meta_->write_activity({0, false, meta_->activity()->extents}); !s)
    message_ = s.err().message;
  else
    spdlog::info("mirror {}: crash recovery done", volume_);
}

volume_meta mirror::meta() const {
  std::lock_guard lock(mutex_);
  return meta_->meta();
}

repl::hello mirror::my_hello() const {
  return hello_of(volume_, meta());
}

result<connect_verdict> mirror::attach_peer(int fd) {
  std::lock_guard lifecycle(lifecycle_mutex_);
  {
    std::unique_lock lock(mutex_);
    if (fd_ >= 0 || is_closed_ || is_resizing_) {
      ::close(fd);
      return make_error(errc::conflict,
                        is_resizing_ ? "volume " + volume_ + " is being resized"
                                     : "volume " + volume_ + " already has its peer attached");
    }
  }
  // The threads of an earlier connection have ended (peer_lost ran).
  if (receiver_.joinable())
    receiver_.join();
  if (resyncer_.joinable())
    resyncer_.join();
  if (verifier_.joinable())
    verifier_.join();
  timeval limit{.tv_sec = hello_timeout_s, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  repl::frame_decoder decoder(limits_);
  bool is_recovering;
  status moved_on = ok_status();
  {
    std::lock_guard lock(mutex_);
    is_recovering = is_recovering_locked();
    // Marked regions behind unchanged generations: writes held for fencing.
    // Still running (not a crashed primary), this side may yet acknowledge
    // them once connected, so the peer must receive them.
    if (!is_recovering && meta_->bitmap().dirty_bytes() > 0)
      moved_on = note_moved_on_locked();
  }
  if (!moved_on) {
    ::close(fd);
    return moved_on.err();
  }
  auto sent =
      send_all(fd,
               repl::encode({repl::frame_type::hello,
                             is_recovering ? repl::flag_recovering : uint16_t(0), 0, my_hello()}),
               {});
  auto peer = sent ? read_one(fd, decoder) : result<repl::frame>(sent.err());
  const repl::hello* hello = peer ? std::get_if<repl::hello>(&peer->body) : nullptr;
  if (!hello) {
    ::close(fd);
    std::string why = peer ? "the peer's first frame is not a hello" : peer.err().message;
    std::lock_guard lock(mutex_);
    message_ = why;
    return make_error(errc::unavailable, why);
  }
  std::unique_lock lock(mutex_);
  auto verdict =
      on_peer_hello(volume_, meta_->meta(), *hello,
                    {is_recovering_locked(), (peer->flags & repl::flag_recovering) != 0});
  message_ = verdict.reason;
  is_split_brain_ = verdict.is_split_brain;
  if (verdict.action == connect_action::refuse) {
    ::close(fd);
    return verdict;
  }
  timeval none{.tv_sec = 0, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  fd_ = fd;
  peer_is_primary_ = hello->is_primary;
  peer_is_consistent_ = hello->is_consistent;
  is_stopping_ = false;
  is_established_ = true;
  is_peer_outdated_ = false;  // outdated for that outage only: a later one is fenced again
  changed_.notify_all();
  is_resync_target_ = verdict.action == connect_action::resync_target;
  is_resync_source_ = verdict.action == connect_action::resync_source;
  percent_ = is_resync_source_ || is_resync_target_ ? 0 : 100;
  if (is_resync_target_) {
    volume_meta m = meta_->meta();
    m.is_consistent = false;
    m.resync_cursor = 0;  // a cursor is the source's; this side's is void now
    if (auto s = meta_->set_meta(m); !s)
      message_ = s.err().message;
  }
  is_full_sync_ = is_resync_source_ && verdict.is_full;
  bool is_peer_recovering = (peer->flags & repl::flag_recovering) != 0;
  is_awaiting_peer_bitmap_ = is_resync_source_ && is_peer_recovering && !verdict.is_full;
  std::string my_bitmap = is_resync_target_ && is_recovering_locked() && !verdict.is_full
                              ? meta_->bitmap().encode()
                              : std::string();
  if (is_resync_source_) {
    // A full sync resumes at the saved cursor: the regions below it were
    // copied, and what was written there since is in the bitmap.
    region_bitmap bits = meta_->bitmap();
    uint64_t cursor = verdict.is_full ? meta_->meta().resync_cursor : 0;
    cursor_saved_ = cursor;
    if (verdict.is_full)
      bits.mark(cursor * limits_.region_bytes, limits_.size_bytes);
    plan_.emplace(std::move(bits), cursor, resync_options_,
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
    resyncer_ = std::thread([this] { resync_loop(); });
  }
  // The decoder goes along: its read of the hello may hold the frames that
  // followed it (the peer's resync may start before our attach returns).
  receiver_ =
      std::thread([this, fd, d = std::move(decoder)]() mutable { receive_loop(fd, std::move(d)); });
  lock.unlock();
  if (!my_bitmap.empty())
    send_bitmap(my_bitmap);
  return verdict;
}

// A target that crashed while primary tells the source which regions it may
// have written alone (its bitmap: the activity log's extents), in parts of at
// most bitmap_bytes_max; the last part ends the bitmap.
void mirror::send_bitmap(const std::string& words) {
  for (size_t at = 0; at < words.size(); at += repl::bitmap_bytes_max) {
    std::string part = words.substr(at, repl::bitmap_bytes_max);
    if (!send_frame({repl::frame_type::bitmap, 0, 0, repl::bitmap_part{at / 8, std::move(part)}}))
      return;  // the peer is lost; the next connection starts over
  }
}

// The source adds a recovering target's bitmap to its plan and to its own
// persistent bitmap (an interrupted resync still copies those regions).
void mirror::add_peer_bitmap(const repl::bitmap_part& part) {
  std::lock_guard lock(mutex_);
  if (!is_awaiting_peer_bitmap_ || !plan_)
    return;
  const uint64_t region = limits_.region_bytes, size = limits_.size_bytes;
  auto mark_run = [&](uint64_t first, uint64_t end) {  // regions [first, end)
    uint64_t offset = first * region, length = std::min(end * region, size) - offset;
    if (auto s = meta_->mark(offset, length); !s)
      message_ = s.err().message;
    plan_->mark(offset, length);
  };
  std::optional<uint64_t> run_start;
  uint64_t words = part.words.size() / 8;
  for (uint64_t w = 0; w < words; ++w) {
    uint64_t word = 0;
    for (int b = 0; b < 8; ++b)
      word |= uint64_t(static_cast<unsigned char>(part.words[w * 8 + b])) << (8 * b);
    for (int bit = 0; bit < 64; ++bit) {
      uint64_t r = (part.first_word + w) * 64 + bit;
      bool is_set = (word >> bit) & 1;
      if (is_set && !run_start)
        run_start = r;
      if (!is_set && run_start) {
        mark_run(*run_start, r);
        run_start.reset();
      }
    }
  }
  if (run_start)
    mark_run(*run_start, (part.first_word + words) * 64);
  if ((part.first_word + words) * 8 >= meta_->bitmap().encoded_bytes()) {
    is_awaiting_peer_bitmap_ = false;
    changed_.notify_all();
  }
}

void mirror::wait_detached() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return fd_ < 0 || is_closed_; });
}

void mirror::stop() {
  {
    std::lock_guard lock(mutex_);
    is_closed_ = true;
    changed_.notify_all();
  }
  detach_peer();
}

void mirror::detach_peer() {
  std::lock_guard lifecycle(lifecycle_mutex_);
  {
    std::lock_guard lock(mutex_);
    is_stopping_ = true;
    if (fd_ >= 0)
      ::shutdown(fd_, SHUT_RDWR);
    changed_.notify_all();
  }
  if (receiver_.joinable())
    receiver_.join();
  if (resyncer_.joinable())
    resyncer_.join();
  if (verifier_.joinable())
    verifier_.join();
}

status mirror::promote(bool allow_two_primaries) {
  {
    std::lock_guard lock(mutex_);
    role_request request{fd_ >= 0, peer_is_primary_, allow_two_primaries, is_resync_target_};
    if (auto s = can_promote(meta_->meta(), request); !s)
      return s;
    if (meta_->meta().role == volume_role::primary)
      return ok_status();
    volume_meta m = meta_->meta();
    m.role = volume_role::primary;
    if (auto s = meta_->set_meta(m); !s)
      return s;
  }
  send_update();
  return ok_status();
}

status mirror::demote() {
  {
    std::lock_guard lock(mutex_);
    if (meta_->meta().role == volume_role::secondary)
      return ok_status();
    volume_meta m = meta_->meta();
    m.role = volume_role::secondary;
    if (auto s = meta_->set_meta(m); !s)
      return s;
  }
  send_update();
  return ok_status();
}

std::string mirror::disk_state_locked() const {
  return is_split_brain_                ? "SplitBrain"
         : is_resync_source_            ? "SyncSource"
         : is_resync_target_            ? "SyncTarget"
         : !meta_->meta().is_consistent ? "Inconsistent"
                                        : "UpToDate";
}

mirror_status mirror::status_now() const {
  std::lock_guard lock(mutex_);
  const volume_meta& m = meta_->meta();
  mirror_status s;
  s.is_connected = fd_ >= 0;
  s.size_bytes = m.size_bytes;
  s.role = m.role == volume_role::primary ? "primary" : "secondary";
  s.disk_state = disk_state_locked();
  s.peer_role = !s.is_connected ? "unknown" : peer_is_primary_ ? "primary" : "secondary";
  s.peer_disk_state = !s.is_connected        ? "unknown"
                      : is_resync_source_    ? "SyncTarget"
                      : is_resync_target_    ? "SyncSource"
                      : !peer_is_consistent_ ? "Inconsistent"
                                             : "UpToDate";
  s.percent = percent_;
  s.out_of_sync_bytes = plan_ ? plan_->remaining_bytes() : meta_->bitmap().dirty_bytes();
  s.message = message_;
  s.resynced_bytes = resynced_bytes_;
  s.rate_bytes_per_s = resync_options_.rate_bytes_per_s;
  s.generation = m.gens.current;
  s.is_fencing = is_fencing_;
  s.is_suspended = is_suspended_locked();
  s.verify = verify_;
  return s;
}

// ---------------------------------------------------------------- the peer's frames

// Keepalive: when nothing came from the peer for a while, ask it for a pong
// (skipped while another thread is sending: traffic flows then); a peer that
// stays silent is lost, so a dead node's volume is released even when no FIN
// ever arrives (power loss, a cut link).
void mirror::ping_peer(int fd) {
  std::unique_lock send_lock(send_mutex_, std::try_to_lock);
  if (send_lock.owns_lock())
    (void)send_all(fd, repl::encode({repl::frame_type::ping, 0, 0, repl::empty{}}), {});
}

void mirror::receive_loop(int fd, repl::frame_decoder decoder) {
  std::string why = "the peer closed the connection";
  timeval tick{.tv_sec = 0, .tv_usec = 250000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  auto last_heard = std::chrono::steady_clock::now();
  auto last_overdue_check = last_heard;
  apply_worker worker([this](const repl::frame& f) { apply_from_peer(f); });
  while (true) {
    // First what is buffered: the hello's read may have taken frames after it.
    bool is_bad = false;
    while (true) {
      auto f = decoder.next();
      if (!f) {
        is_bad = true;
        why = f.err().message;
        break;
      }
      if (!*f)
        break;
      if ((*f)->type == repl::frame_type::resync_data) {
        if (!worker.try_hand(**f))
          apply_from_peer(**f);
        continue;
      }
      worker.wait_idle();  // frames apply in order (apply_worker.h)
      on_frame(**f);
    }
    if (is_bad)
      break;
    // Straight into the decoder's buffer: a payload is copied once, into its frame.
    std::span<char> room = decoder.prepare();
    if (room.empty()) {
      why = "the replication decoder has no room (a frame was not taken)";
      break;
    }
    ssize_t n = ::recv(fd, room.data(), room.size(), 0);
    if (n < 0 && errno == EINTR)
      continue;
    auto now = std::chrono::steady_clock::now();
    if (now - last_overdue_check >= 1s) {
      last_overdue_check = now;
      std::lock_guard lock(mutex_);
      if (has_overdue_write_locked(now)) {
        why = "the peer did not acknowledge a write within 30 s";
        break;
      }
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (now - last_heard >= peer_silence_max) {
        why = "no frame from the peer for " + std::to_string(peer_silence_max.count()) +
              " s (it died or the link is cut)";
        break;
      }
      if (now - last_heard >= keepalive_idle)
        ping_peer(fd);
      continue;
    }
    last_heard = now;
    if (n <= 0) {
      if (n < 0)
        why = std::string("receive from the peer: ") + strerror(errno);
      break;
    }
    if (auto fed = decoder.commit(static_cast<size_t>(n)); !fed) {
      why = fed.err().message;
      break;
    }
  }
  worker.stop();
  peer_lost(why);
  std::lock_guard send_lock(send_mutex_);  // nobody sends on it any more
  ::close(fd);
}

void mirror::on_frame(const repl::frame& f) {
  using repl::frame_type;
  switch (f.type) {
    case frame_type::write_ack:
    case frame_type::flush_ack:
    case frame_type::resync_ack: {
      uint32_t code = std::get<repl::ack>(f.body).status;
      const status answer = code == 0
                                ? ok_status()
                                : status(make_error(errc::unavailable, "the peer's disk failed: " +
                                                                           std::to_string(code)));
      std::optional<started_write> ready;
      {
        std::lock_guard lock(mutex_);
        if (auto it = pending_.find(f.seq); it != pending_.end()) {
          it->second = answer;
          changed_.notify_all();
        } else {
          ready = settle_locked(f.seq, std::nullopt, answer);
        }
      }
      if (ready)
        finish_started(std::move(*ready));
      return;
    }
    case frame_type::hello: {
      const auto& h = std::get<repl::hello>(f.body);
      std::lock_guard lock(mutex_);
      if (f.flags & repl::flag_update) {  // the peer was promoted or demoted
        peer_is_primary_ = h.is_primary;
        return;
      }
      // The resync source's last word: this side now holds its data. It is
      // on disk before the metadata says so: a power loss must not leave a
      // "consistent" copy with stale blocks.
      if (!is_resync_target_ || !h.is_consistent)
        return;
      if (auto s = data_->flush(); !s) {
        message_ = "resync done but the data file could not be synced: " + s.err().message;
        return;
      }
      volume_meta m = meta_->meta();
      m.gens = on_resync_done_target(h.gens);
      m.is_consistent = true;
      m.resync_cursor = 0;
      if (auto s = meta_->set_meta(m); !s)
        message_ = s.err().message;
      end_recovery_locked(true);
      is_resync_target_ = false;
      percent_ = 100;
      peer_is_primary_ = h.is_primary;
      peer_is_consistent_ = true;
      return;
    }
    case frame_type::verify_request:
      answer_verify(f);
      return;
    case frame_type::verify_reply: {
      std::lock_guard lock(mutex_);
      if (auto it = verify_pending_.find(f.seq); it != verify_pending_.end())
        it->second = std::get<repl::digest>(f.body).hash;
      changed_.notify_all();
      return;
    }
    case frame_type::ping:
      (void)send_frame({frame_type::pong, 0, f.seq, repl::empty{}});
      return;
    case frame_type::goodbye: {
      std::lock_guard lock(mutex_);
      message_ = "the peer said goodbye: " + std::get<repl::goodbye>(f.body).reason;
      return;
    }
    case frame_type::bitmap:
      add_peer_bitmap(std::get<repl::bitmap_part>(f.body));
      return;
    case frame_type::pong:
      return;
    default:
      apply_from_peer(f);
  }
}

// write, trim, write_zeroes, flush and resync_data from the peer: applied
// here, then acknowledged with the result (protocol C: after the local I/O).
void mirror::apply_from_peer(const repl::frame& f) {
  using repl::frame_type;
  status done = ok_status();
  bool is_primary_here = is_primary();
  if (is_primary_here && f.type != frame_type::resync_data) {
    done = make_error(errc::forbidden, "both sides primary");
  } else if (const auto* d = std::get_if<repl::data_block>(&f.body)) {
    done = data_->write(d->offset, as_bytes(d->data), (f.flags & repl::flag_fua) != 0);
  } else if (const auto* e = std::get_if<repl::extent>(&f.body)) {
    done = f.type == frame_type::trim ? data_->trim(e->offset, e->length, false)
                                      : data_->write_zeroes(e->offset, e->length, false, false);
  } else if (f.type == frame_type::flush) {
    done = data_->flush();
  }
  frame_type answer = f.type == frame_type::resync_data ? frame_type::resync_ack
                      : f.type == frame_type::flush     ? frame_type::flush_ack
                                                        : frame_type::write_ack;
  (void)send_frame({answer, 0, f.seq, repl::ack{done ? 0u : uint32_t(EIO)}});
}

void mirror::peer_lost(const std::string& why) {
  std::vector<started_write> ready;
  {
    std::lock_guard lock(mutex_);
    if (fd_ < 0)
      return;
    ::shutdown(fd_, SHUT_RDWR);
    fd_ = -1;
    ++peer_epoch_;
    // Frames sent on this connection are never answered now, even if a new
    // peer attaches before their writers wake up: they count as not replicated.
    const status lost = make_error(errc::unavailable, "the peer was lost before it acknowledged");
    for (auto& [seq, answer] : pending_)
      if (!answer)
        answer = lost;
    std::vector<uint64_t> unanswered;
    for (const auto& [seq, w] : started_)
      if (!w.replicated)
        unanswered.push_back(seq);
    for (uint64_t seq : unanswered)
      if (auto w = settle_locked(seq, std::nullopt, lost))
        ready.push_back(std::move(*w));
    is_established_ = false;
    peer_is_primary_ = false;
    if (!is_stopping_)
      message_ = why;
    if (is_resync_source_) {
      (void)meta_->flush_bitmap();
      save_resync_cursor();
    }
    is_resync_source_ = false;
    is_awaiting_peer_bitmap_ = false;
    is_full_sync_ = false;
    is_resync_target_ = false;  // its metadata still says inconsistent
    changed_.notify_all();
  }
  for (auto& w : ready)  // on their runners: track() may wait for fencing
    finish_started(std::move(w));
}

// ---------------------------------------------------------------- resync source

namespace {

// Contiguous regions from `regions` (ascending), at most `bytes_max` each
// (but always at least one region): one read and as few frames as the frame
// limit allows, so a mostly dirty bitmap goes out in 1 MiB frames.
std::vector<std::pair<uint64_t, uint64_t>> contiguous_runs(const std::vector<uint64_t>& regions,
                                                           uint64_t region_bytes,
                                                           uint64_t bytes_max) {
  std::vector<std::pair<uint64_t, uint64_t>> runs;  // first region, count
  for (uint64_t r : regions) {
    if (!runs.empty() && runs.back().first + runs.back().second == r &&
        (runs.back().second + 1) * region_bytes <= bytes_max)
      ++runs.back().second;
    else
      runs.emplace_back(r, 1);
  }
  return runs;
}

}  // namespace

// Reads the run of regions and sends it as resync_data frames (each at most
// data_bytes_max); a frame that could not be read or sent has no seq.
mirror::resync_send mirror::send_resync_run(uint64_t first, uint64_t count, std::string& buf) {
  resync_send sent{first, count, 0, {}};
  uint64_t offset = first * limits_.region_bytes;
  uint64_t end = std::min<uint64_t>((first + count) * limits_.region_bytes, limits_.size_bytes);
  sent.bytes = end - offset;
  buf.resize(sent.bytes);
  auto bytes = std::as_writable_bytes(std::span(buf.data(), buf.size()));
  auto got = data_->read(offset, bytes);
  for (uint64_t at = 0; at < sent.bytes; at += repl::data_bytes_max) {
    auto part = bytes.subspan(at, std::min<uint64_t>(repl::data_bytes_max, sent.bytes - at));
    sent.seqs.push_back(
        got ? start_replicate_data(repl::frame_type::resync_data, 0, offset + at, part)
            : std::nullopt);
  }
  return sent;
}

// The oldest run in flight is answered (or its peer is gone): done or failed.
void mirror::finish_resync_run(const resync_send& sent) {
  bool is_copied = true;
  for (auto seq : sent.seqs) {
    auto answer = wait_replicated(seq);
    is_copied = is_copied && answer && *answer;
  }
  std::lock_guard lock(mutex_);
  if (!plan_)
    return;
  if (is_copied)
    resynced_bytes_ += sent.bytes;
  for (uint64_t r = sent.first; r < sent.first + sent.count; ++r) {
    if (!is_copied) {
      plan_->failed(r);
      continue;
    }
    plan_->done(r);
    if (!plan_->bitmap().is_set(r))
      meta_->clear(r);
  }
  if (plan_->cursor() >= cursor_saved_ + 256)
    save_resync_cursor();  // every 256 regions: an interruption resumes near here
}

// A sliding window: the plan hands out regions while fewer than its
// max_in_flight are outstanding; they go out in runs of contiguous regions,
// and the oldest run is waited for only when nothing more may be sent. The
// peer answers in order, so waiting for the oldest loses no time.
void mirror::resync_loop() {
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  std::string buf;
  std::deque<resync_send> in_flight;
  while (true) {
    std::vector<uint64_t> regions;
    {
      std::unique_lock lock(mutex_);
      if (fd_ < 0 || is_stopping_ || !plan_ ||
          (plan_->is_finished() && in_flight.empty() && !is_awaiting_peer_bitmap_))
        break;
      regions = plan_->next(now_ms());
      percent_ = plan_->percent();
      if (regions.empty() && in_flight.empty()) {
        changed_.wait_for(lock, resync_idle_wait);  // the rate limit's next token
        continue;
      }
    }
    for (auto [first, count] :
         contiguous_runs(regions, limits_.region_bytes,
                         std::max<uint64_t>(repl::data_bytes_max, limits_.region_bytes)))
      in_flight.push_back(send_resync_run(first, count, buf));
    if (regions.empty()) {  // the window is full (or paced): the oldest run first
      finish_resync_run(in_flight.front());
      in_flight.pop_front();
    }
  }
  for (const auto& sent : in_flight)  // the peer is gone: these are failed, not leaked
    finish_resync_run(sent);
  in_flight.clear();
  std::unique_lock lock(mutex_);
  bool is_finished = plan_ && plan_->is_finished() && !is_awaiting_peer_bitmap_ && fd_ >= 0;
  plan_.reset();
  if (!is_finished)
    return;
  // Done: the bitmap is clean on disk, the tracked generation goes to
  // history, and the target learns it from our hello.
  (void)meta_->flush_bitmap();
  volume_meta m = meta_->meta();
  m.gens = on_resync_done_source(m.gens);
  m.resync_cursor = 0;
  if (auto s = meta_->set_meta(m); !s)
    message_ = s.err().message;
  end_recovery_locked(false);
  is_resync_source_ = false;
  is_full_sync_ = false;
  peer_is_consistent_ = true;
  percent_ = 100;
  spdlog::info("mirror {}: resync done: {} bytes copied", volume_, resynced_bytes_);
  lock.unlock();
  repl::hello h = my_hello();
  h.is_consistent = true;
  (void)send_frame({repl::frame_type::hello, 0, 0, h});
}

}  // namespace vcube::esan
