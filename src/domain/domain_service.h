// domain_service: the asio shell around the replicator that vcubed uses. It
// feeds corosync events in, multicasts the replicator's messages through
// `send` (corosync_link::send), completes write() callers, runs the periodic
// divergence check and refuses writes without quorum.
//
// Everything runs on the io_context's thread. The store must outlive the
// service; call stop() and let the io_context run the cancelled waits before
// destroying it (pending write() coroutines resume with "shutting down").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "domain/replicator.h"
#include "domain/store.h"

namespace vcube::domain {

inline constexpr std::chrono::seconds check_interval{30};

class domain_service {
 public:
  using applied_hook = std::function<void(const std::vector<change>&, bool state_replaced)>;

  domain_service(asio::io_context& io, store& s, std::function<void(std::string)> send,
                 uint64_t session_nonce = random_session_nonce());
  ~domain_service();
  domain_service(const domain_service&) = delete;
  domain_service& operator=(const domain_service&) = delete;

  void on_connection(bool is_connected, uint32_t self_node_id);
  void on_membership(const std::vector<uint32_t>& member_ids);  // sorted, includes self
  void on_message(uint32_t from_node_id, std::string_view payload);
  void on_quorum(bool is_quorate, uint32_t total_votes, uint32_t quorum_votes,
                 uint32_t expected_votes);

  // ok, or why a write would be refused now: unavailable (not connected to
  // corosync, synchronising, shutting down) or no_quorum (votes present/needed).
  status writable() const;
  // Checks writable(), submits, and completes when this node has applied its
  // own message (the new version, or the store's error for it). errc::timeout
  // after `deadline`; the change may still be applied then.
  awaitable<result<uint64_t>> write(write_request request, std::chrono::milliseconds deadline);

  bool is_synced() const { return replicator_.is_synced(); }
  bool is_quorate() const { return is_quorate_; }
  bool is_connected() const { return replicator_.is_connected(); }
  const store& state() const { return store_; }
  // Called after writes were applied or the state was replaced (sync, import).
  void set_on_applied(applied_hook hook) { on_applied_ = std::move(hook); }
  // Cancels the check timer and every pending write (idempotent).
  void stop();

  static uint64_t random_session_nonce();

 private:
  struct waiter {
    explicit waiter(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    std::optional<result<uint64_t>> outcome;
  };

  void flush();
  void arm_check_timer();

  asio::io_context& io_;
  store& store_;
  std::function<void(std::string)> send_;
  replicator replicator_;
  asio::steady_timer check_timer_;
  applied_hook on_applied_;
  std::map<uint64_t, std::shared_ptr<waiter>> waiters_;  // by request id
  bool is_quorate_ = false;
  uint32_t total_votes_ = 0;
  uint32_t quorum_votes_ = 0;
  uint32_t expected_votes_ = 0;
  bool is_stopped_ = false;
};

}  // namespace vcube::domain
