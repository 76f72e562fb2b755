#include "domain/replicator.h"

#include <algorithm>
#include <cassert>

namespace vcube::domain {

replicator::replicator(store& s, uint64_t session_nonce) : store_(s), nonce_(session_nonce) {}

void replicator::connected(uint32_t self_node_id) {
  assert(self_node_id != 0);
  is_connected_ = true;
  self_ = self_node_id;
}

void replicator::disconnected() {
  is_connected_ = false;
  members_.clear();
  begin_sync(0);  // resets round state; nothing is sent while disconnected
  for (auto& [id, request] : in_flight_)
    out_.completed.emplace_back(
        id, make_error(errc::unavailable,
                       "the connection to corosync was lost before the change was confirmed; it "
                       "may or may not have been applied"));
  in_flight_.clear();
}

void replicator::membership(const std::vector<uint32_t>& member_ids) {
  if (!is_connected_)
    return;
  assert(std::is_sorted(member_ids.begin(), member_ids.end()));
  members_ = member_ids;
  begin_sync(0);
}

void replicator::set_quorate(bool is_quorate) {
  is_quorate_ = is_quorate;
  send_held();
}

bool replicator::is_member(uint32_t node_id) const {
  return std::binary_search(members_.begin(), members_.end(), node_id);
}

void replicator::send(const message& m) {
  out_.to_send.push_back(encode(m));
}

void replicator::begin_sync(uint64_t round) {
  is_synced_ = false;
  round_ = round;
  summaries_.clear();
  source_.reset();
  assembly_.clear();
  next_part_ = 0;
  checks_.clear();
  check_order_.clear();
  if (is_connected_ && is_member(self_))
    send(summary_message{members_, round_, store_.version(), store_.checksum(), has_synced_});
}

void replicator::finish_sync() {
  is_synced_ = true;
  has_synced_ = has_synced_ || is_quorate_;
  summaries_.clear();
  source_.reset();
  assembly_.clear();
  send_held();
}

void replicator::send_held() {
  if (!is_synced_ || !is_connected_ || !is_quorate_)
    return;
  for (auto& [id, request] : held_) {
    send(write_message{self_, nonce_, id, request});
    in_flight_.emplace(id, std::move(request));
  }
  held_.clear();
}

uint64_t replicator::submit(write_request request) {
  uint64_t id = next_request_id_++;
  write_message m{self_, nonce_, id, std::move(request)};
  if (encode(m).size() > message_bytes_max) {
    out_.completed.emplace_back(
        id, make_error(errc::too_large, "the change is larger than the " +
                                            std::to_string(message_bytes_max) +
                                            "-byte message limit; split it into smaller ones"));
    return id;
  }
  if (held_.size() + in_flight_.size() >= pending_writes_max) {
    out_.completed.emplace_back(
        id, make_error(errc::unavailable, "too many writes are pending on this node; retry later"));
    return id;
  }
  held_.emplace(id, std::move(m.request));
  send_held();
  return id;
}

void replicator::cancel(uint64_t request_id) {
  held_.erase(request_id);
  in_flight_.erase(request_id);
}

void replicator::start_check() {
  if (is_synced_ && is_connected_)
    send(check_message{self_, ++check_seq_});
}

replicator::output replicator::take_output() {
  return std::exchange(out_, output{});
}

void replicator::deliver(uint32_t from_node_id, std::string_view payload) {
  if (!is_connected_ || !is_member(from_node_id))
    return;
  auto decoded = decode(payload);
  if (!decoded) {
    ++malformed_messages_;
    return;
  }
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, write_message>)
          on_write(from_node_id, std::move(m));
        else if constexpr (std::is_same_v<T, summary_message>)
          on_summary(from_node_id, std::move(m));
        else if constexpr (std::is_same_v<T, state_message>)
          on_state(from_node_id, std::move(m));
        else if constexpr (std::is_same_v<T, check_message>)
          on_check(from_node_id, m);
        else
          on_check_reply(from_node_id, std::move(m));
      },
      std::move(*decoded));
}

void replicator::on_write(uint32_t from, write_message m) {
  if (m.origin_node != from)
    return;
  bool is_mine = from == self_ && m.session_nonce == nonce_;
  auto flight = is_mine ? in_flight_.find(m.request_id) : in_flight_.end();
  if (!is_synced_) {
    // Every member rejects it at this same point; the origin tries again.
    if (flight != in_flight_.end()) {
      held_.emplace(flight->first, std::move(flight->second));
      in_flight_.erase(flight);
    }
    return;
  }
  using type = write_request::type;
  std::vector<change> changes =
      m.request.kind == type::activate ? store_.staged() : m.request.changes;
  auto allowed = partition_may_write();
  auto version = allowed ? store_.apply(m.request) : result<uint64_t>(allowed.err());
  if (version && m.request.kind == type::import)
    out_.state_replaced = true;
  else if (version && (m.request.kind == type::apply || m.request.kind == type::activate))
    out_.applied.insert(out_.applied.end(), changes.begin(), changes.end());
  if (!version && version.err().code == errc::internal)
    out_.problems.push_back("applying a write failed locally: " + version.err().message);
  if (flight != in_flight_.end()) {
    in_flight_.erase(flight);
    out_.completed.emplace_back(m.request_id, std::move(version));
  }
}

// A write is applied only in a partition that holds a majority of the
// domain's nodes (with two nodes, either one: corosync's two_node). The
// membership is part of the total order, so every member decides alike, even
// when votequorum's verdict reaches them at different points: a minority that
// still had writes in flight when it lost quorum cannot apply them, and so can
// never overtake the majority's version when the partitions merge.
status replicator::partition_may_write() const {
  size_t nodes = store_.list("node").size();
  size_t present = members_.size();
  if (nodes == 0 || present * 2 > nodes || (nodes == 2 && present == 1))
    return ok_status();
  return make_error(errc::no_quorum, "no quorum: this partition holds " + std::to_string(present) +
                                         " of " + std::to_string(nodes) +
                                         " nodes; the change was not applied");
}

}  // namespace vcube::domain
