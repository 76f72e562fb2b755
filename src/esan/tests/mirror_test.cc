// Two mirrors of one volume in this process, joined by a socketpair: the real
// data path, metadata files and replication protocol, without the network.
#include "esan/mirror.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

namespace vcube::esan {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t volume_bytes = 8 << 20;
constexpr uint64_t al_extent = 4 << 20;  // the activity log's unit
constexpr uint32_t region = 65536;

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

bool wait_for(const std::function<bool()>& condition) {
  auto until = std::chrono::steady_clock::now() + 20s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(10ms);  // poll interval, not a synchronisation
  }
  return true;
}

// What a started write (mirror::start_write) needs: threads for its
// blocking parts (joined at the end) and a completion to wait for.
class job_threads {
 public:
  ~job_threads() {
    std::lock_guard lock(mutex_);
    for (auto& t : threads_)
      t.join();
  }
  blocking_runner runner() {
    return [this](std::function<void()> job) {
      std::lock_guard lock(mutex_);
      threads_.emplace_back(std::move(job));
    };
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

class completion {
 public:
  write_done callback() {
    return [this](const status& outcome) {
      std::lock_guard lock(mutex_);
      outcome_ = outcome;
      done_.notify_all();
    };
  }
  std::optional<status> wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    done_.wait_for(lock, limit, [&] { return outcome_.has_value(); });
    return outcome_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::optional<status> outcome_;
};

class mirror_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vcube-mirror-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    for (const char* side : {"a", "b"}) {
      fs::path data = dir_ / (std::string(side) + ".data");
      std::ofstream(data).close();
      fs::resize_file(data, volume_bytes);
      auto meta =
          meta_file::create((dir_ / (std::string(side) + ".meta")).string(), volume_bytes, region);
      ASSERT_TRUE(meta) << meta.err().message;
      volume_meta m = (*meta)->meta();
      m.gens = {7, 0, {}};  // as after the initial sync of two zeroed files
      m.is_consistent = true;
      m.role = side[0] == 'a' ? volume_role::primary : volume_role::secondary;
      ASSERT_TRUE((*meta)->set_meta(m));
    }
    a_ = open("a");
    b_ = open("b");
    ASSERT_TRUE(a_ && b_);
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<mirror> open(const std::string& side) {
    auto m = mirror::open("disk", (dir_ / (side + ".data")).string(),
                          (dir_ / (side + ".meta")).string());
    EXPECT_TRUE(m) << m.err().message;
    return m ? std::move(*m) : nullptr;
  }
  // Connects the two; returns both verdicts.
  std::pair<connect_verdict, connect_verdict> connect() {
    // A side that dropped the last connection: the other notices it a moment later.
    EXPECT_TRUE(
        wait_for([&] { return !a_->status_now().is_connected && !b_->status_now().is_connected; }));
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    result<connect_verdict> from_a = make_error(errc::internal, "not run");
    std::thread t([&] { from_a = a_->attach_peer(fds[0]); });
    auto from_b = b_->attach_peer(fds[1]);
    t.join();
    EXPECT_TRUE(from_a && from_b) << (from_a ? "" : "a: " + from_a.err().message)
                                  << (from_b ? "" : " b: " + from_b.err().message);
    return {from_a ? *from_a : connect_verdict{}, from_b ? *from_b : connect_verdict{}};
  }
  // Attaches a_ to a peer that says b_'s hello and then nothing; returns
  // that peer's end of the socket.
  int attach_mute_peer() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    std::string hello = repl::encode({repl::frame_type::hello, 0, 0, hello_of("disk", b_->meta())});
    EXPECT_EQ(::send(fds[1], hello.data(), hello.size(), 0), ssize_t(hello.size()));
    auto verdict = a_->attach_peer(fds[0]);
    EXPECT_TRUE(verdict && verdict->action == connect_action::established)
        << (verdict ? verdict->reason : verdict.err().message);
    return fds[1];
  }
  std::string a_data() { return file_bytes(dir_ / "a.data"); }
  std::string b_data() { return file_bytes(dir_ / "b.data"); }

  fs::path dir_;
  std::unique_ptr<mirror> a_, b_;
};

TEST_F(mirror_test, a_write_is_on_both_sides_when_it_is_acknowledged) {
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::established) << va.reason;
  EXPECT_EQ(vb.action, connect_action::established) << vb.reason;
  std::string data(8192, 'w');
  ASSERT_TRUE(a_->write(4096, bytes_of(data), false));
  EXPECT_EQ(b_data().substr(4096, 8192), data);  // protocol C: no waiting needed
  ASSERT_TRUE(a_->write_zeroes(4096, 4096, false, true));
  EXPECT_EQ(b_data().substr(4096, 4096), std::string(4096, '\0'));
  std::string large((3 << 20) + 4096, 'L');  // larger than one replication frame
  ASSERT_TRUE(a_->write(0, bytes_of(large), false));
  EXPECT_EQ(b_data().substr(0, large.size()), large);
  EXPECT_TRUE(b_->status_now().is_connected);
  ASSERT_TRUE(a_->flush());
  EXPECT_EQ(a_->meta().gens.bitmap, 0u);  // nothing tracked
  auto refused = b_->write(0, bytes_of(data), false);
  EXPECT_FALSE(refused);  // the secondary takes no writes
  EXPECT_EQ(a_->status_now().disk_state, "UpToDate");
  EXPECT_TRUE(b_->status_now().is_connected);
}

// A peer that says hello and then nothing (a dead node: no FIN ever comes) is
// lost after the keepalive's silence limit, so a failover may promote.
TEST_F(mirror_test, a_silent_peer_is_lost_by_the_keepalive) {
  const int peer = attach_mute_peer();
  EXPECT_TRUE(a_->status_now().is_connected);
  // The silent peer is asked for a pong: a second frame (after a's hello)
  // arrives on its socket ...
  std::string received;
  ASSERT_TRUE(wait_for([&] {
    char chunk[4096];
    ssize_t n = ::recv(peer, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0)
      received.append(chunk, size_t(n));
    size_t first = received.find("VCR1");
    return first != std::string::npos && received.find("VCR1", first + 1) != std::string::npos;
  }));
  // ... and, never answering, is lost; b_ (its data) can now be promoted.
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  EXPECT_NE(a_->status_now().message.find("no frame from the peer"), std::string::npos)
      << a_->status_now().message;
  ::close(peer);
}

TEST_F(mirror_test, writes_while_the_peer_is_away_are_resynced_and_only_those) {
  connect();
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  for (uint64_t at : {0ull, 5ull * region + 100 * 512, 63ull * region})
    ASSERT_TRUE(a_->write(at, bytes_of(std::string(1024, 'x')), true));
  EXPECT_EQ(a_->meta().gens.bitmap, 7u);  // tracking since generation 7
  EXPECT_NE(a_->meta().gens.current, 7u);
  EXPECT_NE(a_data(), b_data());

  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::resync_source) << va.reason;
  EXPECT_FALSE(va.is_full);
  EXPECT_EQ(vb.action, connect_action::resync_target) << vb.reason;
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }))
      << b_->status_now().disk_state << " " << b_->status_now().message;
  ASSERT_TRUE(wait_for([&] { return a_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  EXPECT_EQ(a_->meta().gens, b_->meta().gens);
  EXPECT_EQ(a_->meta().gens.history[0], 7u);
  EXPECT_EQ(a_->status_now().resynced_bytes, 3u * region);  // the three written regions only
  EXPECT_TRUE(b_->meta().is_consistent);
  // Replicating again afterwards.
  ASSERT_TRUE(a_->write(region, bytes_of(std::string(512, 'y')), false));
  EXPECT_EQ(b_data().substr(region, 512), std::string(512, 'y'));
}

// Fencing: a primary that lost its peer acknowledges no write until the
// cluster has marked the peer outdated (else a failover could promote a
// copy without it); the write is on the local file and in the bitmap.
TEST_F(mirror_test, with_fencing_a_write_without_the_peer_waits_until_the_peer_is_outdated) {
  a_->set_fencing(true);
  connect();
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(512, 'c')), false));  // replicated: no wait
  EXPECT_FALSE(a_->status_now().is_suspended);
  EXPECT_EQ(a_->outdate_peer().err().code, errc::conflict);  // the peer is connected
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  EXPECT_TRUE(a_->status_now().is_suspended);
  std::atomic<bool> is_done = false;
  status written = ok_status();
  std::thread writer([&] {
    written = a_->write(region, bytes_of(std::string(1024, 'x')), true);
    is_done = true;
  });
  // Held: on the local file and in the bitmap, not acknowledged.
  ASSERT_TRUE(wait_for([&] { return a_data().substr(region, 1024) == std::string(1024, 'x'); }));
  ASSERT_TRUE(wait_for([&] { return a_->status_now().out_of_sync_bytes == region; }));
  EXPECT_FALSE(is_done);
  ASSERT_TRUE(a_->outdate_peer());
  writer.join();
  EXPECT_TRUE(written) << written.err().message;
  EXPECT_FALSE(a_->status_now().is_suspended);
  ASSERT_TRUE(a_->write(2 * region, bytes_of(std::string(512, 'y')), false));  // no wait now

  // The peer's return ends this outage's outdate: the next loss holds again.
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::resync_source) << va.reason;
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  EXPECT_TRUE(a_->status_now().is_suspended);
  // A held write fails (not acknowledged) when the volume is stopped.
  std::thread held([&] { written = a_->write(0, bytes_of(std::string(512, 'z')), false); });
  ASSERT_TRUE(wait_for([&] { return a_data().substr(0, 512) == std::string(512, 'z'); }));
  a_->stop();
  held.join();
  EXPECT_EQ(written.err().code, errc::unavailable);
}

TEST_F(mirror_test, without_fencing_or_as_secondary_nothing_is_held) {
  b_->set_fencing(true);  // a secondary: it takes no writes, never suspended
  connect();
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  EXPECT_FALSE(b_->status_now().is_suspended);
  EXPECT_FALSE(a_->status_now().is_suspended);
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(512, 'n')), false));  // fencing off on a_
  a_->set_fencing(true);
  EXPECT_TRUE(a_->status_now().is_suspended);
  ASSERT_TRUE(a_->demote());
  EXPECT_FALSE(a_->status_now().is_suspended);
}

TEST_F(mirror_test, split_brain_is_refused_and_reported) {
  connect();
  a_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !b_->status_now().is_connected; }));
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(512, 'a')), false));
  ASSERT_TRUE(b_->promote());  // alone: allowed
  ASSERT_TRUE(b_->write(region, bytes_of(std::string(512, 'b')), false));
  ASSERT_TRUE(a_->demote());  // even with one side demoted: both wrote apart
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::refuse);
  EXPECT_TRUE(va.is_split_brain) << va.reason;
  EXPECT_TRUE(vb.is_split_brain) << vb.reason;
  EXPECT_EQ(a_->status_now().disk_state, "SplitBrain");
  EXPECT_FALSE(a_->status_now().is_connected);
  EXPECT_NE(a_data(), b_data());  // nothing merged
}

TEST_F(mirror_test, promotion_is_refused_while_the_connected_peer_is_primary) {
  connect();
  auto refused = b_->promote();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::conflict);
  EXPECT_TRUE(b_->promote(true));  // a live migration's hand-over
}

// Side b is new (generation 0, inconsistent) and a holds data: a full sync,
// interrupted once, resumed, then byte-identical.
TEST_F(mirror_test, an_initial_full_sync_copies_everything_and_resumes_after_an_interruption) {
  b_.reset();
  {
    auto meta = meta_file::open((dir_ / "b.meta").string());
    ASSERT_TRUE(meta);
    volume_meta m = (*meta)->meta();
    m.gens = {};
    m.is_consistent = false;
    ASSERT_TRUE((*meta)->set_meta(m));
  }
  b_ = open("b");
  for (uint64_t at = 0; at < volume_bytes; at += region)
    ASSERT_TRUE(a_->write(at, bytes_of(std::string(4096, char('a' + at / region % 26))), false));
  a_->set_rate(region * 4);  // 4 regions a second: slow enough to interrupt
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::resync_source) << va.reason;
  EXPECT_TRUE(va.is_full);
  EXPECT_EQ(vb.action, connect_action::resync_target) << vb.reason;
  EXPECT_EQ(b_->status_now().disk_state, "SyncTarget");
  ASSERT_TRUE(wait_for([&] { return a_->status_now().resynced_bytes >= 2 * region; }));
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  EXPECT_EQ(b_->status_now().disk_state, "Inconsistent");
  EXPECT_GE(a_->meta().resync_cursor, 2u);  // saved at the interruption
  uint64_t before = a_->status_now().resynced_bytes;
  a_->set_rate(0);
  connect();
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  EXPECT_EQ(a_->meta().gens.current, b_->meta().gens.current);
  EXPECT_EQ(a_->status_now().percent, 100);
  EXPECT_EQ(a_->meta().resync_cursor, 0u);
  // The resumed sync did not start from region 0 again.
  EXPECT_LT(a_->status_now().resynced_bytes - before, volume_bytes);
}

TEST_F(mirror_test, verify_reports_exactly_the_regions_that_differ) {
  connect();
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(65536 * 3, 'v')), false));
  ASSERT_TRUE(a_->start_verify());
  ASSERT_TRUE(wait_for([&] { return a_->status_now().verify.state == "done"; }));
  EXPECT_EQ(a_->status_now().verify.differing_regions, 0u);
  EXPECT_EQ(a_->status_now().verify.percent, 100);
  {  // behind the mirror's back
    std::fstream f(dir_ / "b.data", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5 * region + 1000);
    f.write("corrupt", 7);
  }
  ASSERT_TRUE(b_->start_verify());  // from the secondary this time
  ASSERT_TRUE(wait_for([&] { return b_->status_now().verify.state == "done"; }));
  auto v = b_->status_now().verify;
  EXPECT_EQ(v.differing_regions, 1u);
  EXPECT_EQ(v.differing_bytes, region);
  ASSERT_EQ(v.first_differences.size(), 1u);
  EXPECT_EQ(v.first_differences[0], 5 * region);
}

TEST_F(mirror_test, both_sides_grown_reconnect_without_a_sync) {
  connect();
  ASSERT_FALSE(a_->resize(volume_bytes / 2));
  ASSERT_TRUE(a_->resize(volume_bytes));
  ASSERT_TRUE(a_->resize(2 * volume_bytes));
  EXPECT_EQ(a_->size_bytes(), 2 * volume_bytes);
  EXPECT_FALSE(a_->status_now().is_connected);
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::refuse);
  EXPECT_NE(va.reason.find("size mismatch: grow both"), std::string::npos) << va.reason;
  ASSERT_TRUE(b_->resize(2 * volume_bytes));
  auto [va2, vb2] = connect();
  EXPECT_EQ(va2.action, connect_action::established) << va2.reason;
  ASSERT_TRUE(a_->write(volume_bytes + region, bytes_of(std::string(512, 'g')), false));
  EXPECT_EQ(b_data().substr(volume_bytes + region, 512), std::string(512, 'g'));
  EXPECT_EQ(fs::file_size(dir_ / "b.data"), 2 * volume_bytes);
  b_.reset();
  b_ = open("b");  // the metadata kept the new size
  EXPECT_EQ(b_->size_bytes(), 2 * volume_bytes);
}

TEST_F(mirror_test, a_resolved_split_brain_copies_everything_from_the_kept_side) {
  connect();
  a_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !b_->status_now().is_connected; }));
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(512, 'a')), false));
  ASSERT_TRUE(b_->promote());
  ASSERT_TRUE(b_->write(region, bytes_of(std::string(512, 'b')), false));
  EXPECT_FALSE(b_->resolve_discard());  // not (yet) in split brain
  auto [va, vb] = connect();
  ASSERT_TRUE(vb.is_split_brain) << vb.reason;  // both primary: still a split brain
  ASSERT_TRUE(b_->resolve_discard());
  EXPECT_EQ(b_->status_now().role, "secondary");
  auto [va2, vb2] = connect();
  EXPECT_EQ(va2.action, connect_action::resync_source) << va2.reason;
  EXPECT_EQ(vb2.action, connect_action::resync_target) << vb2.reason;
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  EXPECT_EQ(b_->status_now().peer_role, "primary");
}

// A crash of primary a, simulated: a write reached a's file but not b's, and
// a's metadata file is put back as it was before the clean close.
class mirror_crash_test : public mirror_test {
 protected:
  void crash_a_with_an_unreplicated_write() {
    connect();
    ASSERT_TRUE(a_->write(region, bytes_of(std::string(4096, 'r')), false));
    {  // reached a's disk only
      std::fstream f(dir_ / "a.data", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(2 * region);
      f.write("lost", 4);
    }
    fs::copy_file(dir_ / "a.meta", dir_ / "a.meta.crash");  // the log lists extent 0
    a_.reset();                                             // (a clean close empties it)
    fs::rename(dir_ / "a.meta.crash", dir_ / "a.meta");
    ASSERT_TRUE(wait_for([&] { return !b_->status_now().is_connected; }));
    a_ = open("a");
    ASSERT_TRUE(a_);
    EXPECT_EQ(a_->status_now().out_of_sync_bytes, al_extent);  // extent 0
  }
};

TEST_F(mirror_crash_test, the_crashed_primarys_active_extents_are_resynced_to_the_peer) {
  crash_a_with_an_unreplicated_write();
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::resync_source) << va.reason;
  EXPECT_FALSE(va.is_full);
  EXPECT_EQ(vb.action, connect_action::resync_target) << vb.reason;
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  EXPECT_EQ(b_data().substr(2 * region, 4), "lost");
  // Recovered: the next connection replicates without a resync.
  EXPECT_EQ(a_->status_now().out_of_sync_bytes, 0u);
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  auto [va2, vb2] = connect();
  EXPECT_EQ(va2.action, connect_action::established) << va2.reason;
}

// The failover case: b took over and wrote; a comes back. b sends what it
// wrote since and a's activity-log extents (from a's bitmap frame), not the
// whole volume.
TEST_F(mirror_crash_test, a_peer_that_took_over_sends_its_changes_and_the_crashed_extents) {
  crash_a_with_an_unreplicated_write();
  ASSERT_TRUE(b_->promote());  // failover
  ASSERT_TRUE(b_->write(5 * region, bytes_of(std::string(512, 'b')), false));
  ASSERT_TRUE(a_->demote());
  auto [va, vb] = connect();
  EXPECT_EQ(vb.action, connect_action::resync_source) << vb.reason;
  EXPECT_FALSE(vb.is_full);
  EXPECT_EQ(va.action, connect_action::resync_target) << va.reason;
  ASSERT_TRUE(wait_for([&] { return a_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  EXPECT_NE(a_data().substr(2 * region, 4), "lost");  // never acknowledged: discarded
  // b's write (region 5, in extent 0) and a's extent 0, not the whole volume;
  // region 5 may go twice when it went before a's bitmap arrived.
  EXPECT_GE(b_->status_now().resynced_bytes, al_extent);
  EXPECT_LE(b_->status_now().resynced_bytes, al_extent + region);
  EXPECT_EQ(a_->status_now().out_of_sync_bytes, 0u);
}

// Fencing: primary a lost its peer and held a write when it was fenced
// (crashed); b took over and wrote. a's held write was never acknowledged:
// a returns as a plain resync target, not in split brain, and b's data wins.
TEST_F(mirror_crash_test, a_primary_fenced_with_held_writes_returns_as_a_resync_target) {
  a_->set_fencing(true);
  connect();
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  status held = ok_status();
  std::thread writer([&] { held = a_->write(region, bytes_of(std::string(4096, 'h')), false); });
  ASSERT_TRUE(wait_for([&] { return a_->status_now().out_of_sync_bytes == region; }));
  fs::copy_file(dir_ / "a.meta", dir_ / "a.meta.crash");  // as the power went off
  a_->stop();
  writer.join();
  EXPECT_FALSE(held);  // never acknowledged
  a_.reset();
  fs::rename(dir_ / "a.meta.crash", dir_ / "a.meta");
  ASSERT_TRUE(b_->promote());  // failover
  ASSERT_TRUE(b_->write(5 * region, bytes_of(std::string(512, 'b')), false));
  a_ = open("a");
  ASSERT_TRUE(a_);
  ASSERT_TRUE(a_->demote());
  auto [va, vb] = connect();
  EXPECT_FALSE(va.is_split_brain) << va.reason;
  EXPECT_EQ(vb.action, connect_action::resync_source) << vb.reason;
  EXPECT_EQ(va.action, connect_action::resync_target) << va.reason;
  ASSERT_TRUE(wait_for([&] { return a_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
  EXPECT_NE(a_data().substr(region, 1), "h");
}

// Fencing, the peer back before the cluster marked it: the held write is
// acknowledged once connected, so the peer must receive it.
TEST_F(mirror_test, a_write_held_until_the_peer_returns_is_resynced_to_it) {
  a_->set_fencing(true);
  connect();
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  status held = make_error(errc::internal, "not done");
  std::thread writer([&] { held = a_->write(region, bytes_of(std::string(4096, 'h')), false); });
  ASSERT_TRUE(wait_for([&] { return a_->status_now().out_of_sync_bytes == region; }));
  auto [va, vb] = connect();
  writer.join();
  EXPECT_TRUE(held) << held.err().message;
  EXPECT_EQ(va.action, connect_action::resync_source) << va.reason;
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(b_data().substr(region, 4096), std::string(4096, 'h'));
}

// The write path without a waiting thread: done runs once the local write
// and the peer's ack are in, so the data is on both sides then.
TEST_F(mirror_test, a_started_write_completes_when_both_sides_have_it) {
  job_threads jobs;
  const std::string data(4096, 's');
  completion cold;
  write_done done = cold.callback();
  connect();
  EXPECT_FALSE(a_->start_write(0, bytes_of(data), false, done, jobs.runner()));  // a cold extent
  ASSERT_TRUE(done);                                                  // declined: untouched
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(512, 'x')), false));  // makes extent 0 hot
  EXPECT_FALSE(b_->start_write(0, bytes_of(data), false, done, jobs.runner()));  // secondary
  const std::string large(128 << 10, 'L');
  EXPECT_FALSE(
      a_->start_write(0, bytes_of(large), false, done, jobs.runner()));  // write() is for it
  for (int i = 0; i < 20; ++i) {
    completion c;
    write_done finished = c.callback();
    const std::string bytes(4096, static_cast<char>('a' + i));
    ASSERT_TRUE(
        a_->start_write(uint64_t(i) * 8192, bytes_of(bytes), i % 2 == 0, finished, jobs.runner()));
    auto outcome = c.wait(20s);
    ASSERT_TRUE(outcome) << "write " << i << " never completed";
    EXPECT_TRUE(*outcome) << outcome->err().message;
    EXPECT_EQ(b_data().substr(uint64_t(i) * 8192, 4096), bytes);
    EXPECT_EQ(a_data().substr(uint64_t(i) * 8192, 4096), bytes);
  }
  EXPECT_EQ(a_->status_now().out_of_sync_bytes, 0u);
  EXPECT_TRUE(a_->status_now().is_connected);
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  EXPECT_FALSE(a_->start_write(0, bytes_of(data), false, done, jobs.runner()));  // no peer
  EXPECT_FALSE(cold.wait(0ms));
}

// A started write whose peer is lost before it answered is tracked and, with
// fencing, held like any other; the receiver does not wait for it, so the
// peer can be detached meanwhile (the control thread must stay free to
// deliver outdate_peer).
TEST_F(mirror_test, a_started_write_whose_peer_is_lost_is_held_until_the_peer_is_outdated) {
  job_threads jobs;
  connect();
  ASSERT_TRUE(a_->write(region, bytes_of(std::string(512, 'x')), false));  // extent 0 hot
  b_->detach_peer();
  ASSERT_TRUE(wait_for([&] { return !a_->status_now().is_connected; }));
  const int peer = attach_mute_peer();  // takes frames, never answers
  a_->set_fencing(true);
  completion c;
  write_done done = c.callback();
  const std::string data(4096, 'u');
  ASSERT_TRUE(a_->start_write(region, bytes_of(data), false, done, jobs.runner()));
  EXPECT_FALSE(c.wait(100ms));  // no ack
  ::close(peer);                // the peer is gone
  ASSERT_TRUE(wait_for([&] { return a_->status_now().out_of_sync_bytes == region; }));
  EXPECT_TRUE(a_->status_now().is_suspended);
  EXPECT_EQ(a_data().substr(region, 4096), data);  // written here, and marked
  EXPECT_FALSE(c.wait(100ms));                     // held
  a_->detach_peer();                               // returns: nobody waits on the receiver
  ASSERT_TRUE(a_->outdate_peer());
  auto outcome = c.wait(20s);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(*outcome) << outcome->err().message;
  auto [va, vb] = connect();
  EXPECT_EQ(va.action, connect_action::resync_source) << va.reason;
  ASSERT_TRUE(wait_for([&] { return b_->status_now().disk_state == "UpToDate"; }));
  EXPECT_EQ(a_data(), b_data());
}

TEST_F(mirror_test, only_a_write_to_a_cold_extent_persists_the_activity_log) {
  connect();
  auto seq = [](const fs::path& meta) {
    auto m = meta_file::open(meta.string());
    return m && (*m)->activity() ? (*m)->activity()->seq : 0;
  };
  ASSERT_TRUE(a_->write(0, bytes_of(std::string(512, 'x')), false));
  uint64_t after_first = seq(dir_ / "a.meta");
  for (int i = 1; i < 10; ++i)
    ASSERT_TRUE(a_->write(uint64_t(i) * 4096, bytes_of(std::string(512, 'x')), false));
  EXPECT_EQ(seq(dir_ / "a.meta"), after_first);  // the same extent: hot
}

}  // namespace
}  // namespace vcube::esan
