// The sync and check halves of the replicator (see replicator.h).
#include <algorithm>

#include "domain/replicator.h"

namespace vcube::domain {

void replicator::on_summary(uint32_t from, summary_message m) {
  if (is_synced_ || source_ || m.members != members_ || m.round != round_)
    return;
  summaries_[from] = std::move(m);
  if (summaries_.size() == members_.size())
    decide_sync();
}

void replicator::decide_sync() {
  const summary_message& first = summaries_.begin()->second;
  bool is_equal = std::all_of(summaries_.begin(), summaries_.end(), [&](const auto& entry) {
    return entry.second.version == first.version && entry.second.checksum == first.checksum;
  });
  if (is_equal) {
    finish_sync();
    return;
  }
  // Highest version wins; ties go to the lowest node id (the map is ordered).
  // In a two-node cluster (corosync two_node: each side alone is quorate)
  // only the nodes synced since their vcubed started take part, if any: the
  // fenced side of a split comes back with its copy from before the fence,
  // and however many writes it made apart, the survivor's decisions since
  // (a VM started on it) must not be dropped for it. With a majority quorum
  // two sides are never quorate at once, and the highest version holds
  // every acknowledged write.
  const bool is_two_node = store_.list("node").size() == 2;
  const bool is_any_synced = std::any_of(summaries_.begin(), summaries_.end(),
                                         [](const auto& entry) { return entry.second.has_synced; });
  std::optional<uint32_t> source;
  for (const auto& [node, summary] : summaries_) {
    if (is_two_node && is_any_synced && !summary.has_synced)
      continue;
    if (!source || summary.version > summaries_[*source].version)
      source = node;
  }
  source_ = source;
  if (*source == self_)
    send_snapshot();
}

void replicator::send_snapshot() {
  // ASCII-only JSON, so chunks can be cut at any byte.
  std::string text = store_.snapshot().dump(-1, ' ', true, json::error_handler_t::replace);
  size_t parts =
      std::max<size_t>(1, (text.size() + state_chunk_bytes_max - 1) / state_chunk_bytes_max);
  if (parts > state_parts_max) {
    out_.problems.push_back("the domain snapshot is too large to send (" +
                            std::to_string(text.size()) + " bytes)");
    parts = state_parts_max;  // receivers refuse the truncated snapshot
  }
  for (size_t i = 0; i < parts; ++i)
    send(state_message{self_, members_, round_, uint32_t(i), uint32_t(parts),
                       text.substr(i * state_chunk_bytes_max, state_chunk_bytes_max)});
}

void replicator::on_state(uint32_t from, state_message m) {
  if (is_synced_ || !source_ || from != *source_ || m.source_node != from ||
      m.members != members_ || m.round != round_)
    return;
  if (m.part == 0) {
    assembly_.clear();
    next_part_ = 0;
  }
  if (m.part != next_part_)
    return;  // a gap: wait for a part 0 (cannot happen with CPG's ordering)
  assembly_ += m.chunk;
  ++next_part_;
  if (next_part_ < m.parts)
    return;
  if (from != self_) {
    auto snapshot = parse_json(assembly_);
    uint64_t replaced_version = store_.version();
    status loaded = snapshot ? store_.load_snapshot(*snapshot) : status(snapshot.err());
    if (loaded && store_.version() <= replaced_version && replaced_version > 0) {
      // Not a catch-up: this node's own history since the split is dropped.
      out_.problems.push_back("domain version " + std::to_string(replaced_version) +
                              " replaced by node " + std::to_string(from) + "'s version " +
                              std::to_string(store_.version()) +
                              " after the partitions merged; changes made here since the split "
                              "are dropped");
    }
    if (loaded)
      out_.state_replaced = true;
    else  // End the round anyway: the next check finds the difference.
      out_.problems.push_back("loading the snapshot from node " + std::to_string(from) +
                              " failed: " + loaded.err().message);
  }
  finish_sync();
}

void replicator::on_check(uint32_t from, const check_message& m) {
  if (!is_synced_ || m.initiator != from)
    return;
  auto key = std::make_pair(m.initiator, m.seq);
  if (!checks_.emplace(key, pending_check{}).second)
    return;
  check_order_.push_back(key);
  if (check_order_.size() > checks_tracked_max) {
    checks_.erase(check_order_.front());
    check_order_.pop_front();
  }
  send(check_reply_message{m.initiator, m.seq, store_.version(), store_.checksum()});
}

void replicator::on_check_reply(uint32_t from, check_reply_message m) {
  if (!is_synced_)
    return;
  auto it = checks_.find({m.initiator, m.seq});
  if (it == checks_.end())
    return;
  it->second.replies[from] = {m.version, std::move(m.checksum)};
  if (it->second.replies.size() < members_.size())
    return;
  auto replies = std::move(it->second.replies);
  checks_.erase(it);
  std::erase(check_order_, std::make_pair(m.initiator, m.seq));
  const auto& first = replies.begin()->second;
  bool is_equal = std::all_of(replies.begin(), replies.end(),
                              [&](const auto& entry) { return entry.second == first; });
  if (!is_equal) {
    out_.problems.push_back("the members' domain states differ; resynchronising");
    begin_sync(round_ + 1);
  }
}

}  // namespace vcube::domain
