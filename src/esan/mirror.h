// A mirrored volume (docs/esan.md, "Mirror"): a backend over the local data
// file and its metadata file, replicating to the peer, protocol C. A write is
// acknowledged when it is on the local file and the peer has acknowledged
// it; while no peer is attached the written regions are marked in the
// persistent bitmap first. When a peer attaches, the hello exchange and
// peer_rules decide: replicate, resync (this side sends, or receives) or
// refuse. Reads are local.
//
// Threads: the NBD server calls the backend methods from its workers, and
// start_write from its event loop; one receiver thread per attached peer
// reads its frames (an apply_worker helps it apply resync data) and
// finishes started writes on their acks; one resync thread runs while this
// side is a resync source; finisher_ finishes started writes the peer did
// not take. The pure parts are the codecs, generations, peer_rules,
// resync_plan and activity_log.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "esan/file_backend.h"
#include "esan/job_thread.h"
#include "esan/meta_file.h"
#include "esan/peer_rules.h"
#include "esan/repl_protocol.h"
#include "esan/resync_plan.h"

namespace vcube::esan {

struct mirror_verify {
  std::string state = "idle";  // idle | running | done | failed
  int percent = 0;
  uint64_t differing_regions = 0;
  uint64_t differing_bytes = 0;
  std::vector<uint64_t> first_differences;  // region offsets, the first 16
  std::string message;                      // why it failed
};

struct mirror_status {
  bool is_connected = false;
  uint64_t size_bytes = 0;
  std::string role;                // primary | secondary
  std::string peer_role;           // primary | secondary | unknown (not connected)
  std::string disk_state;          // UpToDate | Inconsistent | SyncSource | SyncTarget | SplitBrain
  std::string peer_disk_state;     // the same, or unknown
  int percent = 100;               // resync progress
  uint64_t out_of_sync_bytes = 0;  // a source: left to copy; else the bitmap's regions
  std::string message;             // why the last peer was refused or lost
  uint64_t resynced_bytes = 0;     // sent as resync data since this mirror was opened
  uint64_t rate_bytes_per_s = 0;
  uint64_t generation = 0;  // the current data generation
  bool is_fencing = false;
  // A primary without its peer, fencing on, the peer not marked outdated:
  // writes are held (not acknowledged).
  bool is_suspended = false;
  mirror_verify verify;
};
class mirror final : public backend {
 public:
  static result<std::unique_ptr<mirror>> open(std::string volume, const std::string& data_path,
                                              const std::string& meta_path,
                                              resync_options resync = {});
  ~mirror() override;
  mirror(const mirror&) = delete;
  mirror& operator=(const mirror&) = delete;

  // Takes a connected stream socket to the peer (whichever side dialled),
  // exchanges hellos and acts on the verdict; the verdict is returned (a
  // refused peer's socket is closed).
  result<connect_verdict> attach_peer(int fd);
  // Closes the peer connection (as if it was lost) and waits for its threads.
  void detach_peer();
  // Blocks until no peer is attached (lost or detached) or stop() was called.
  void wait_detached();
  // Ends every wait and refuses further peers (shutdown).
  void stop();

  // Fencing (docs/esan.md, "Fencing"): while on, a primary without its
  // peer acknowledges no write (it holds them) until outdate_peer() says the
  // cluster has marked the peer outdated, or the peer is back.
  void set_fencing(bool is_on);
  // The peer cannot be promoted any more (the cluster says so): held writes
  // complete, and new ones go on, until the next connection. Refused
  // (conflict) while the peer is connected.
  status outdate_peer();

  status promote(bool allow_two_primaries = false);
  status demote();
  // The resync rate from now on, also for a running resync (0: unlimited).
  void set_rate(uint64_t rate_bytes_per_s);
  // Grows this side (data file, bitmap, size for new NBD clients); smaller is
  // invalid_input. The peer connection is dropped meanwhile; it is refused
  // ("size mismatch") until the peer has grown too.
  status resize(uint64_t size_bytes);
  // Starts an online verify against the connected peer (conflict when not
  // connected or one runs); progress and result in status_now().verify.
  status start_verify();
  // Split-brain resolution on the side whose data is discarded: secondary,
  // inconsistent, generations cleared, so the next connection copies every
  // region from the peer. Only while disconnected in split brain (conflict).
  status resolve_discard();
  mirror_status status_now() const;
  volume_meta meta() const;  // a copy, consistent

  uint64_t size_bytes() const override { return size_bytes_.load(); }
  bool is_read_only() const override { return false; }
  status read(uint64_t offset, std::span<std::byte> out) override;
  status write(uint64_t offset, std::span<const std::byte> data, bool is_fua) override;
  // The write path without a waiting thread (docs/esan.md, "Write path"):
  // a small write on a connected primary, whose extents are hot and whose
  // link has room, sends its frame from the calling thread; the receiver
  // writes the local file on the peer's ack and completes it (a FUA write's
  // local part runs on `run` meanwhile). Anything else declines (false):
  // write().
  bool start_write(uint64_t offset, std::span<const std::byte> data, bool is_fua, write_done& done,
                   const blocking_runner& run) override;
  status flush() override;
  status trim(uint64_t offset, uint64_t length, bool is_fua) override;
  status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) override;
  // Only a primary serves another node (a diskless one).
  bool may_serve_remotely() const override { return is_primary(); }

 private:
  // The activity log around a primary's write: al_begin records the
  // extents (persisting a new set when one is cold) before the write is
  // issued; al_end when it is done.
  status al_begin(uint64_t offset, uint64_t length);
  void al_end(uint64_t offset, uint64_t length);
  bool is_recovering_locked() const;
  void end_recovery_locked(bool is_target);  // a resync finished: the crash is repaired
  status write_logged(uint64_t offset, std::span<const std::byte> data, bool is_fua);
  // A primary's write whose local part and replication have ended: the
  // resync plan and the bitmap learn of it, and track() decides (may block).
  status after_write(uint64_t offset, uint64_t length, const status& local,
                     std::optional<status> replicated);

  // A write started by start_write, until both its parts have ended.
  struct started_write {
    uint64_t offset = 0;
    std::span<const std::byte> data;  // the caller's, valid until done
    // A FUA write's local part runs on the NBD server's pool (it syncs);
    // another's on the thread that finishes it, after the peer's answer.
    bool is_fua = false;
    write_done done;
    std::optional<status> local;
    std::optional<status> replicated;  // the peer's ack, or why there is none
    std::chrono::steady_clock::time_point sent_at;
  };
  // Records one part's end; the write when both have ended now, or when
  // the peer answered and the local write is left to the finishing thread
  // (taken out of started_). mutex_ held.
  std::optional<started_write> settle_locked(uint64_t seq, std::optional<status> local,
                                             std::optional<status> replicated);
  // Completes it: here when the peer has it (at most a page-cache write is
  // left), else on finisher_ (track() may wait for fencing).
  void finish_started(started_write w);
  // A started write the peer has not answered for ack_timeout. mutex_ held.
  bool has_overdue_write_locked(std::chrono::steady_clock::time_point now) const;
  status trim_logged(uint64_t offset, uint64_t length, bool is_fua);
  status write_zeroes_logged(uint64_t offset, uint64_t length, bool may_punch, bool is_fua);

  mirror(std::string volume, std::unique_ptr<file_backend> data, std::unique_ptr<meta_file> meta,
         resync_options resync);

  repl::hello my_hello() const;
  bool is_primary() const;
  // Sends `f` to the peer (nullopt: no peer), then wait_replicated() for its
  // ack; nullopt when the peer is lost meanwhile: the caller then marks the
  // range in the bitmap.
  std::optional<uint64_t> start_replicate(repl::frame f);
  std::optional<uint64_t> start_replicate_data(repl::frame_type type, uint16_t flags,
                                               uint64_t offset, std::span<const std::byte> data);
  std::optional<uint64_t> reserve_seq();
  std::optional<uint64_t> sent_or_released(uint64_t seq, const status& sent);
  status send_data(repl::frame_type type, uint16_t flags, uint64_t seq, uint64_t offset,
                   std::span<const std::byte> data);
  std::optional<status> wait_replicated(std::optional<uint64_t> seq);
  // The local write is done and the peer did not take it: mark it.
  status track(uint64_t offset, uint64_t length, std::optional<status> replicated);
  status send_frame(const repl::frame& f);
  status send_bytes(std::string_view head, std::span<const std::byte> tail);
  void receive_loop(int fd, repl::frame_decoder decoder);
  void ping_peer(int fd);
  void send_bitmap(const std::string& words);
  void add_peer_bitmap(const repl::bitmap_part& part);
  void on_frame(const repl::frame& f);
  void apply_from_peer(const repl::frame& f);
  // A run of contiguous regions a resync sent: its frames' seqs (nullopt:
  // not sent) and its bytes.
  struct resync_send {
    uint64_t first = 0;
    uint64_t count = 0;
    uint64_t bytes = 0;
    std::vector<std::optional<uint64_t>> seqs;
  };
  void resync_loop();
  resync_send send_resync_run(uint64_t first, uint64_t count, std::string& buf);
  void finish_resync_run(const resync_send& sent);
  void peer_lost(const std::string& why);
  void save_resync_cursor();  // mutex_ held
  void send_update();         // our role changed: tell the connected peer (mutex_ not held)
  void verify_loop();
  void answer_verify(const repl::frame& f);
  std::optional<uint64_t> peer_hash(uint64_t offset, uint64_t length);
  std::string disk_state_locked() const;
  bool is_suspended_locked() const;
  // This side holds writes the peer lacks: a new current generation, once
  // per outage, so the next connection resyncs them to the peer.
  status note_moved_on_locked();

  const std::string volume_;
  // Changes only in resize(), while no peer thread runs (lifecycle_mutex_).
  repl::volume_limits limits_;
  std::atomic<uint64_t> size_bytes_;
  std::unique_ptr<file_backend> data_;
  std::unique_ptr<meta_file> meta_;
  resync_options resync_options_;

  std::mutex al_mutex_;  // al_; taken before mutex_ (which guards its persisting)
  std::condition_variable al_room_;
  // The hot set in memory is not the one on disk (its record failed): the
  // next write persists it again even when its own extents are hot.
  bool is_al_unpersisted_ = false;  // al_mutex_
  // 15 extents ahead: a sequential or strided stream persists a record
  // every 64 MiB instead of every 4 MiB (bench/RESULTS.md, eSAN); a crash
  // may resync up to 60 MiB more per stream, within the log's 256 MiB.
  activity_log al_{al_extents_max, 15};

  // Serialises attach_peer, detach_peer and resize: no two of them join or
  // start the peer threads at once.
  std::mutex lifecycle_mutex_;
  mutable std::mutex mutex_;  // everything below
  std::condition_variable changed_;
  int fd_ = -1;
  bool is_established_ = false;  // replicate writes to the peer
  bool is_resync_target_ = false;
  bool is_resync_source_ = false;
  // A source whose target crashed while primary: the resync is not done
  // before the target's bitmap (its activity log's extents) has arrived.
  bool is_awaiting_peer_bitmap_ = false;
  bool is_stopping_ = false;
  bool is_closed_ = false;  // stop(): no more peers
  int percent_ = 100;
  uint64_t resynced_bytes_ = 0;
  std::string message_;
  bool is_split_brain_ = false;
  bool is_fencing_ = false;
  bool is_peer_outdated_ = false;  // since the last connection ended
  bool peer_is_primary_ = false;
  bool peer_is_consistent_ = false;
  bool is_full_sync_ = false;  // this side sends every region (the cursor is saved)
  bool is_resizing_ = false;   // refuse peers
  uint64_t cursor_saved_ = 0;  // the resync cursor last written
  mirror_verify verify_;
  std::map<uint64_t, std::optional<uint64_t>> verify_pending_;  // seq → the peer's hash
  uint64_t next_seq_ = 1;
  uint64_t peer_epoch_ = 0;  // counts lost connections: a waiter's peer is gone when it changed
  std::map<uint64_t, std::optional<status>> pending_;  // seq → ack (nullopt: waiting)
  std::map<uint64_t, started_write> started_;          // seq → a write nobody waits for
  std::optional<resync_plan> plan_;                    // while this side is a resync source
  std::mutex send_mutex_;
  std::thread receiver_;
  std::thread resyncer_;
  std::thread verifier_;
  // Finishes started writes the peer did not take (track() may wait for
  // fencing). Last: destroyed first, while what its jobs use still exists.
  job_thread finisher_;
};

}  // namespace vcube::esan
