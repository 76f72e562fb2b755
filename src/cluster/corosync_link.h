// corosync_link: this node's connection to corosync — CPG group messaging in
// total order, group membership, and quorum from votequorum — driven by an
// asio::io_context. All callbacks run on the io_context's thread.
//
// It survives corosync restarts: when a call reports the connection gone it
// finalizes the handles, reports on_connection(false), and reconnects with
// exponential backoff (100 ms .. 5 s). CS_ERR_TRY_AGAIN is retried with backoff.
// Messages accepted by send() are never dropped by the link: they are queued
// while disconnected or while corosync pushes back, and sent in order. The
// queue is bounded (send_queue_limits); send() refuses a message beyond it.
// A message whose send failed because the connection broke is sent again
// after reconnecting (so in that rare case it may arrive twice); a message
// corosync accepted just before it died may be lost with it.
//
// Threading: every member function must be called on the io_context's thread
// (or while the io_context is not running). Do not destroy the link from
// inside one of its callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/send_queue.h"
#include "common/asio.h"
#include "common/error.h"

namespace vcube::cluster {

struct member {
  uint32_t node_id = 0;
  std::string name;     // from cmap nodelist.node.X.name ("" if unknown)
  std::string address;  // from cmap nodelist.node.X.ring0_addr ("" if unknown)
  friend bool operator==(const member&, const member&) = default;
};

struct quorum_info {
  bool is_quorate = false;
  uint32_t total_votes = 0;   // votes present
  uint32_t quorum_votes = 0;  // votes needed
  uint32_t expected_votes = 0;
  bool is_two_node = false;
  friend bool operator==(const quorum_info&, const quorum_info&) = default;
};

struct corosync_callbacks {
  // The CPG group's membership changed (a configuration change). `members`
  // is the full new membership, sorted by node id; it includes this node.
  std::function<void(const std::vector<member>& members)> on_membership;
  // A group message, in the same total order on every member.
  std::function<void(uint32_t from_node_id, std::string_view payload)> on_message;
  std::function<void(const quorum_info&)> on_quorum;
  // Connected to corosync (handles usable, group joined) or lost. On loss,
  // members() becomes empty and quorum() not quorate; if the node was
  // quorate, on_quorum reports that right after on_connection(false).
  std::function<void(bool is_connected)> on_connection;
};

class corosync_link {
 public:
  // `group` is the CPG group name (e.g. "vcube-domain"). Does not connect yet.
  corosync_link(asio::io_context& io, std::string group, corosync_callbacks callbacks,
                send_queue_limits limits = {});
  ~corosync_link();
  corosync_link(const corosync_link&) = delete;
  corosync_link& operator=(const corosync_link&) = delete;

  // Connects (cpg, votequorum, cmap), joins the group, and keeps reconnecting.
  void start();
  // Leaves the group and finalizes; no callbacks after it returns.
  void stop();

  // Queues `payload` for CPG multicast (agreed order) and sends what it can
  // now. Errors (nothing queued): errc::too_large for a payload above
  // limits.message_bytes_max, errc::unavailable when the queue is full.
  // Accepted while stopped or disconnected; sent once connected.
  status send(std::string payload);

  bool is_connected() const;
  uint32_t local_node_id() const;  // 0 until the first connection
  const std::vector<member>& members() const;
  const quorum_info& quorum() const;
  size_t queued_messages() const;
  size_t queued_bytes() const;
  // How often corosync answered CS_ERR_TRY_AGAIN (flow control) so far.
  uint64_t busy_retries() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace vcube::cluster
