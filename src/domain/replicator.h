// replicator: the domain's replication protocol as a pure state machine (no
// I/O, clock or threads), in the style of etcd's raft. The caller feeds it
// corosync CPG events (connection, membership, messages in total order) and
// local requests, then takes the output: messages to multicast, completed
// requests, and what changed.
//
// Protocol (docs/domain.md): on every membership change all members enter
// "syncing" and multicast a summary (version, checksum). Once every member's
// summary is delivered, either all agree (sync ends) or the source (highest
// version, ties to the lowest node id) multicasts its snapshot in parts, and
// every member ends sync when the last part is delivered. Writes are applied
// by every member in delivery order; writes delivered while syncing are
// rejected by all (the origin resubmits its own after sync). Checks compare
// every member's (version, checksum) at one point of the order and start a
// new sync round when they differ.
//
// The store must outlive the replicator; nothing else touches it for writes.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/codec.h"
#include "domain/store.h"

namespace vcube::domain {

inline constexpr size_t pending_writes_max = 1024;  // held + in flight, per node
inline constexpr size_t checks_tracked_max = 16;

class replicator {
 public:
  struct output {
    std::vector<std::string> to_send;  // encoded messages, to multicast in order
    std::vector<std::pair<uint64_t, result<uint64_t>>> completed;  // request id → version
    std::vector<change> applied;        // changes applied since the last take (for hooks)
    bool state_replaced = false;        // a snapshot or an import replaced the state
    std::vector<std::string> problems;  // worth a warning in the log
  };

  replicator(store& s, uint64_t session_nonce);

  void connected(uint32_t self_node_id);
  // Fails writes in flight (unavailable: they may or may not be applied).
  void disconnected();
  // A CPG configuration change: the full membership, sorted, including self.
  void membership(const std::vector<uint32_t>& member_ids);
  // A CPG message in agreed order, our own included.
  void deliver(uint32_t from_node_id, std::string_view payload);
  // Returns the request id. Sent now when synced (and quorate), else held
  // until sync ends. Its result arrives in output::completed.
  uint64_t submit(write_request request);
  // Forgets a held request, or stops resubmitting one in flight (it may
  // still be applied if its message is already out).
  void cancel(uint64_t request_id);
  // Without quorum held writes stay held (default: quorate).
  void set_quorate(bool is_quorate);
  // Multicasts a check (divergence detection); no-op unless synced.
  void start_check();

  output take_output();
  bool is_synced() const { return is_synced_; }
  bool is_connected() const { return is_connected_; }
  const std::vector<uint32_t>& members() const { return members_; }
  uint64_t malformed_messages() const { return malformed_messages_; }

 private:
  struct pending_check {
    std::map<uint32_t, std::pair<uint64_t, std::string>> replies;
  };

  void begin_sync(uint64_t round);
  void finish_sync();
  void decide_sync();
  void send_snapshot();
  void send_held();
  void send(const message& m);
  bool is_member(uint32_t node_id) const;

  void on_write(uint32_t from, write_message m);
  status partition_may_write() const;
  void on_summary(uint32_t from, summary_message m);
  void on_state(uint32_t from, state_message m);
  void on_check(uint32_t from, const check_message& m);
  void on_check_reply(uint32_t from, check_reply_message m);

  store& store_;
  const uint64_t nonce_;
  uint32_t self_ = 0;
  bool is_connected_ = false;
  bool is_quorate_ = true;
  std::vector<uint32_t> members_;

  // Sync round state; reset by begin_sync.
  bool is_synced_ = false;
  // Synced in a quorate membership at least once since this replicator was
  // made: this node's copy has followed the cluster (summary_message).
  bool has_synced_ = false;
  uint64_t round_ = 0;
  std::map<uint32_t, summary_message> summaries_;
  std::optional<uint32_t> source_;
  std::string assembly_;
  uint32_t next_part_ = 0;

  // Checks delivered while synced, oldest first.
  std::map<std::pair<uint32_t, uint64_t>, pending_check> checks_;
  std::deque<std::pair<uint32_t, uint64_t>> check_order_;
  uint64_t check_seq_ = 0;

  uint64_t next_request_id_ = 1;
  std::map<uint64_t, write_request> held_;       // by id = submission order
  std::map<uint64_t, write_request> in_flight_;  // sent, not yet delivered
  uint64_t malformed_messages_ = 0;
  output out_;
};

}  // namespace vcube::domain
