// corosync_link: dispatch of corosync's fds on the io_context, delivery of
// what they reported, sending, and the public forwarding functions.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>

#include "cluster/cmap_nodelist.h"
#include "cluster/corosync_link.h"
#include "cluster/corosync_link_impl.h"

namespace vcube::cluster {

using namespace link_detail;

void corosync_link::impl::wait_cpg() {
  cpg_fd->async_wait(asio::posix::stream_descriptor::wait_read, guarded([this](const auto& ec) {
                       if (ec)
                         return lose_connection("waiting on the cpg fd: " + ec.message());
                       on_cpg_readable();
                     }));
}

void corosync_link::impl::wait_votequorum() {
  votequorum_fd->async_wait(
      asio::posix::stream_descriptor::wait_read, guarded([this](const auto& ec) {
        if (ec)
          return lose_connection("waiting on the votequorum fd: " + ec.message());
        on_votequorum_readable();
      }));
}

void corosync_link::impl::on_cpg_readable() {
  cs_error_t rc = cpg_dispatch(*cpg, CS_DISPATCH_ALL);
  if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN)
    return lose_connection(cs_message("cpg_dispatch", rc));
  uint64_t gen = generation;
  deliver_events();
  if (gen == generation)
    wait_cpg();
}

void corosync_link::impl::on_votequorum_readable() {
  cs_error_t rc = votequorum_dispatch(*votequorum, CS_DISPATCH_ALL);
  if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN)
    return lose_connection(cs_message("votequorum_dispatch", rc));
  uint64_t gen = generation;
  deliver_events();
  if (gen == generation)
    wait_votequorum();
}

// Stops early when a callback stops the link or breaks the connection.
void corosync_link::impl::deliver_events() {
  std::vector<link_event> batch;
  batch.swap(events);
  uint64_t gen = generation;
  for (auto& event : batch) {
    if (gen != generation)
      return;
    switch (event.what) {
      case link_event::kind::message:
        if (callbacks.on_message)
          callbacks.on_message(event.from_node_id, event.payload);
        break;
      case link_event::kind::membership:
        deliver_membership(event.node_ids);
        break;
      case link_event::kind::quorum:
        refresh_quorum(event.is_quorate);
        break;
    }
  }
}

// Names and addresses are re-read from cmap each time: a reload may change them.
void corosync_link::impl::deliver_membership(const std::vector<uint32_t>& node_ids) {
  std::map<uint32_t, member> nodes;
  if (auto nodelist = read_cmap_nodelist(*cmap))
    nodes = std::move(*nodelist);
  else
    spdlog::warn("corosync: cannot read node names: {}", nodelist.err().message);
  std::vector<member> next;
  for (uint32_t id : node_ids) {
    auto it = nodes.find(id);
    next.push_back(it != nodes.end() ? it->second : member{id, {}, {}});
  }
  std::sort(next.begin(), next.end(),
            [](const member& a, const member& b) { return a.node_id < b.node_id; });
  members = std::move(next);
  if (callbacks.on_membership)
    callbacks.on_membership(members);
}

// Reports the current quorum state if it changed. `notified_quorate` is used
// only when votequorum_getinfo fails.
void corosync_link::impl::refresh_quorum(bool notified_quorate) {
  votequorum_info info{};
  quorum_info next = quorum;
  if (cs_error_t rc = votequorum_getinfo(*votequorum, local_node_id, &info); rc == CS_OK) {
    next.is_quorate = (info.flags & VOTEQUORUM_INFO_QUORATE) != 0;
    next.total_votes = info.total_votes;
    next.quorum_votes = info.quorum;
    next.expected_votes = info.node_expected_votes;
    next.is_two_node = (info.flags & VOTEQUORUM_INFO_TWONODE) != 0;
  } else {
    spdlog::warn("corosync: {}", cs_message("votequorum_getinfo", rc));
    next.is_quorate = notified_quorate;
  }
  if (next == quorum)
    return;
  quorum = next;
  if (callbacks.on_quorum)
    callbacks.on_quorum(quorum);
}

void corosync_link::impl::flush() {
  while (is_connected && !is_retry_pending && !queue.empty()) {
    const std::string& payload = queue.front();
    iovec iov{const_cast<char*>(payload.data()), payload.size()};
    cs_error_t rc = cpg_mcast_joined(*cpg, CPG_TYPE_AGREED, &iov, 1);
    if (rc == CS_ERR_TRY_AGAIN)
      return schedule_retry();
    if (rc != CS_OK)
      return lose_connection(cs_message("cpg_mcast_joined", rc));
    queue.pop();
    retry_delay = retry_delay_min;
  }
}

// corosync pushes back (flow control, or a membership change in progress).
void corosync_link::impl::schedule_retry() {
  ++busy_retries;
  spdlog::debug("corosync: busy; retrying {} queued messages in {} ms", queue.size(),
                retry_delay.count());
  is_retry_pending = true;
  retry_timer.expires_after(retry_delay);
  retry_timer.async_wait(guarded([this](const auto&) {
    is_retry_pending = false;
    flush();
  }));
  retry_delay = std::min(retry_delay * 2, retry_delay_max);
}

status corosync_link::impl::send(std::string payload) {
  if (auto s = queue.push(std::move(payload)); !s)
    return s;
  flush();
  return ok_status();
}

// ---- the public class ----

corosync_link::corosync_link(asio::io_context& io, std::string group, corosync_callbacks callbacks,
                             send_queue_limits limits) {
  assert(!group.empty());
  assert(group.size() < CPG_MAX_NAME_LENGTH);
  impl_ = std::make_unique<impl>(io, std::move(group), std::move(callbacks), limits);
}

corosync_link::~corosync_link() {
  impl_->stop();
}

void corosync_link::start() {
  impl_->start();
}
void corosync_link::stop() {
  impl_->stop();
}
status corosync_link::send(std::string payload) {
  return impl_->send(std::move(payload));
}
bool corosync_link::is_connected() const {
  return impl_->is_connected;
}
uint32_t corosync_link::local_node_id() const {
  return impl_->local_node_id;
}
const std::vector<member>& corosync_link::members() const {
  return impl_->members;
}
const quorum_info& corosync_link::quorum() const {
  return impl_->quorum;
}
size_t corosync_link::queued_messages() const {
  return impl_->queue.size();
}
size_t corosync_link::queued_bytes() const {
  return impl_->queue.bytes();
}
uint64_t corosync_link::busy_retries() const {
  return impl_->busy_retries;
}

}  // namespace vcube::cluster
