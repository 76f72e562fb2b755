#include "domain/domain_service.h"

#include <spdlog/spdlog.h>

#include <random>

namespace vcube::domain {

uint64_t domain_service::random_session_nonce() {
  std::random_device device;
  return (uint64_t(device()) << 32) ^ uint64_t(device());
}

domain_service::domain_service(asio::io_context& io, store& s,
                               std::function<void(std::string)> send, uint64_t session_nonce)
    : io_(io), store_(s), send_(std::move(send)), replicator_(s, session_nonce), check_timer_(io) {
  replicator_.set_quorate(false);
  arm_check_timer();
}

domain_service::~domain_service() {
  stop();
}

void domain_service::stop() {
  is_stopped_ = true;
  check_timer_.cancel();
  for (auto& [id, w] : waiters_)
    w->timer.cancel();
}

void domain_service::arm_check_timer() {
  check_timer_.expires_after(check_interval);
  check_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || is_stopped_)
      return;  // cancelled: `this` may be gone, touch nothing
    replicator_.start_check();
    flush();
    arm_check_timer();
  });
}

void domain_service::on_connection(bool is_connected, uint32_t self_node_id) {
  if (is_connected && self_node_id != 0)
    replicator_.connected(self_node_id);
  else if (!is_connected)
    replicator_.disconnected();
  flush();
}

void domain_service::on_membership(const std::vector<uint32_t>& member_ids) {
  replicator_.membership(member_ids);
  flush();
}

void domain_service::on_message(uint32_t from_node_id, std::string_view payload) {
  replicator_.deliver(from_node_id, payload);
  flush();
}

void domain_service::on_quorum(bool is_quorate, uint32_t total_votes, uint32_t quorum_votes,
                               uint32_t expected_votes) {
  is_quorate_ = is_quorate;
  total_votes_ = total_votes;
  quorum_votes_ = quorum_votes;
  expected_votes_ = expected_votes;
  replicator_.set_quorate(is_quorate);
  flush();
}

status domain_service::writable() const {
  if (is_stopped_)
    return make_error(errc::unavailable, "vcubed is shutting down");
  if (!replicator_.is_connected())
    return make_error(errc::unavailable,
                      "not connected to corosync; writes resume when the connection is back");
  if (!is_quorate_)
    return make_error(errc::no_quorum, "no quorum: " + std::to_string(total_votes_) + " of " +
                                           std::to_string(std::max(total_votes_, expected_votes_)) +
                                           " votes present, " + std::to_string(quorum_votes_) +
                                           " needed; writes are refused until the cluster "
                                           "regains quorum");
  if (!replicator_.is_synced())
    return make_error(errc::unavailable,
                      "the configuration is being synchronised after a membership change; "
                      "retry in a moment");
  return ok_status();
}

void domain_service::flush() {
  auto out = replicator_.take_output();
  for (auto& payload : out.to_send)
    send_(std::move(payload));
  for (auto& [id, outcome] : out.completed) {
    auto it = waiters_.find(id);
    if (it == waiters_.end())
      continue;
    it->second->outcome = std::move(outcome);
    it->second->timer.cancel();
  }
  for (const auto& problem : out.problems)
    spdlog::warn("domain: {}", problem);
  if ((!out.applied.empty() || out.state_replaced) && on_applied_)
    on_applied_(out.applied, out.state_replaced);
}

awaitable<result<uint64_t>> domain_service::write(write_request request,
                                                  std::chrono::milliseconds deadline) {
  if (auto s = writable(); !s)
    co_return s.err();
  auto w = std::make_shared<waiter>(io_);
  w->timer.expires_after(deadline);
  uint64_t id = replicator_.submit(std::move(request));
  waiters_[id] = w;
  flush();
  if (!w->outcome) {
    boost::system::error_code ec;
    co_await w->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  waiters_.erase(id);
  if (w->outcome)
    co_return std::move(*w->outcome);
  replicator_.cancel(id);
  if (is_stopped_)
    co_return make_error(errc::unavailable,
                         "vcubed is shutting down; the change may or may not be applied");
  co_return make_error(errc::timeout, "the change was not confirmed within " +
                                          std::to_string(deadline.count()) +
                                          " ms; the change may still be applied");
}

}  // namespace vcube::domain
