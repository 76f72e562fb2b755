// corosync_link_impl: the state behind corosync_link, shared by
// corosync_link.cc (connection life cycle) and corosync_link_io.cc (dispatch,
// delivery, sending). Internal to src/cluster.
#pragma once

#include <corosync/cmap.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/corosync_link.h"
#include "cluster/send_queue.h"

namespace vcube::cluster {
namespace link_detail {

using std::chrono::milliseconds;
inline constexpr milliseconds reconnect_delay_min{100};
inline constexpr milliseconds reconnect_delay_max{5000};
inline constexpr milliseconds retry_delay_min{5};
inline constexpr milliseconds retry_delay_max{1000};

// What the C callbacks saw during one dispatch; delivered after it returns, so
// user callbacks may call send() or stop() without re-entering libcpg.
struct link_event {
  enum class kind { membership, message, quorum };
  kind what = kind::message;
  std::vector<uint32_t> node_ids;  // membership: the new member list
  uint32_t from_node_id = 0;       // message
  std::string payload;             // message
  bool is_quorate = false;         // quorum
};

inline std::string cs_message(const char* call, cs_error_t rc) {
  return std::string(call) + ": " + cs_strerror(rc);
}

}  // namespace link_detail

struct corosync_link::impl {
  using milliseconds = std::chrono::milliseconds;
  using link_event = link_detail::link_event;

  impl(asio::io_context& io, std::string group, corosync_callbacks callbacks,
       send_queue_limits limits)
      : io(io),
        group(std::move(group)),
        callbacks(std::move(callbacks)),
        reconnect_timer(io),
        retry_timer(io),
        queue(limits) {}

  asio::io_context& io;
  const std::string group;
  const corosync_callbacks callbacks;
  // Handlers hold a weak_ptr to this: once the impl is gone they do nothing.
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  // Bumped whenever handles are torn down; a handler from an older generation
  // does nothing.
  uint64_t generation = 0;
  bool is_running = false;
  bool is_connected = false;
  bool is_retry_pending = false;

  std::optional<cmap_handle_t> cmap;
  std::optional<cpg_handle_t> cpg;
  std::optional<votequorum_handle_t> votequorum;
  // The fds belong to the libraries: released, never closed, by asio.
  std::optional<asio::posix::stream_descriptor> cpg_fd;
  std::optional<asio::posix::stream_descriptor> votequorum_fd;
  asio::steady_timer reconnect_timer;
  asio::steady_timer retry_timer;
  milliseconds reconnect_delay = link_detail::reconnect_delay_min;
  milliseconds retry_delay = link_detail::retry_delay_min;
  uint64_t busy_retries = 0;

  send_queue queue;
  uint32_t local_node_id = 0;
  std::vector<member> members;
  quorum_info quorum;
  std::vector<link_event> events;

  // Wraps a completion handler so it runs only while this impl lives, is
  // running, and has not torn down the handles it was started for.
  template <class F>
  auto guarded(F f) {
    return [weak = std::weak_ptr<int>(alive), gen = generation, this,
            f = std::move(f)](const boost::system::error_code& ec) {
      if (weak.expired() || ec == asio::error::operation_aborted)
        return;
      if (!is_running || gen != generation)
        return;
      f(ec);
    };
  }

  void start();
  void stop();
  status send(std::string payload);

  void connect();
  std::optional<std::string> open_handles();
  cpg_name group_name() const;
  void close_handles(bool should_leave);
  void lose_connection(const std::string& why);
  void schedule_reconnect();
  void wait_cpg();
  void wait_votequorum();
  void on_cpg_readable();
  void on_votequorum_readable();
  void deliver_events();
  void deliver_membership(const std::vector<uint32_t>& node_ids);
  void refresh_quorum(bool notified_quorate);
  void flush();
  void schedule_retry();

  static impl* from_cpg(cpg_handle_t handle);
  static void on_cpg_deliver(cpg_handle_t handle, const cpg_name* group, uint32_t node_id,
                             uint32_t pid, void* msg, size_t msg_len);
  static void on_cpg_confchg(cpg_handle_t handle, const cpg_name* group, const cpg_address* members,
                             size_t member_count, const cpg_address* left, size_t left_count,
                             const cpg_address* joined, size_t joined_count);
  static void on_quorum_notify(votequorum_handle_t handle, uint64_t context, uint32_t quorate,
                               uint32_t node_count, votequorum_node_t nodes[]);
  // Expected votes change without a membership change when corosync.conf's
  // nodelist is reloaded (a node added or removed).
  static void on_expected_votes_notify(votequorum_handle_t handle, uint64_t context,
                                       uint32_t expected_votes);
};

}  // namespace vcube::cluster
