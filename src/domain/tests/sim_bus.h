// A deterministic simulation of corosync CPG for replicator tests: nodes are
// put in groups (partitions); each group has one totally ordered queue; a
// delivery hands the head message to every member of the group in turn.
// A membership change calls membership() on every node whose group changed,
// and moves messages still queued to the sender's new group, where they are
// delivered after the change (a write "in flight across a membership change").
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "domain/replicator.h"
#include "domain/store.h"

namespace vcube::domain::test {

// splitmix64: our own PRNG, so a seed replays the same run everywhere.
class prng {
 public:
  explicit prng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  uint64_t state_;
};

struct sim_node {
  uint32_t id = 0;
  std::unique_ptr<store> db;
  std::unique_ptr<replicator> rep;
  int group = -1;  // -1: down
  std::map<uint64_t, result<uint64_t>> completed;
  std::set<uint64_t> pending;  // submitted, not completed
  std::vector<change> applied;
  int state_replacements = 0;
};

class sim_bus {
 public:
  sim_bus(size_t node_count, uint64_t seed) : random_(seed) {
    for (size_t i = 0; i < node_count; ++i) {
      auto n = std::make_unique<sim_node>();
      n->id = uint32_t(i + 1);
      n->db = store::open(":memory:").value();
      nodes_.push_back(std::move(n));
    }
  }

  sim_node& node(uint32_t id) { return *nodes_.at(id - 1); }
  size_t size() const { return nodes_.size(); }
  prng& random() { return random_; }

  // Quorum as votequorum would see it: more than half of all nodes; with
  // `is_two_node` (corosync two_node, 2 nodes) any one node.
  bool is_quorate(int group) const {
    if (is_two_node && nodes_.size() == 2)
      return !members(group).empty();
    return 2 * members(group).size() > nodes_.size();
  }
  bool is_two_node = false;

  std::vector<uint32_t> members(int group) const {
    std::vector<uint32_t> out;
    for (const auto& n : nodes_)
      if (n->group == group && group >= 0)
        out.push_back(n->id);
    return out;
  }

  // Starts (or restarts) a node's process: a new replicator with a new nonce;
  // its store survives unless `is_store_lost`. It joins no group yet.
  void start(uint32_t id, bool is_store_lost = false) {
    sim_node& n = node(id);
    if (is_store_lost || !n.db)
      n.db = store::open(":memory:").value();
    n.rep = std::make_unique<replicator>(*n.db, random_.next());
    n.rep->connected(id);
    n.pending.clear();
  }

  // Assigns groups (-1 = down/crashed) and delivers the membership changes.
  void set_groups(const std::vector<int>& groups) {
    std::map<uint32_t, std::vector<uint32_t>> before;
    for (const auto& n : nodes_)
      before[n->id] = members(n->group);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (groups[i] < 0 && nodes_[i]->rep)
        crash(nodes_[i]->id);
      else if (groups[i] >= 0 && !nodes_[i]->rep)
        start(nodes_[i]->id);
      nodes_[i]->group = groups[i];
    }
    std::map<int, std::deque<std::pair<uint32_t, std::string>>> moved;
    for (auto& [group, queue] : queues_)
      for (auto& [from, payload] : queue)
        if (node(from).group >= 0)
          moved[node(from).group].emplace_back(from, std::move(payload));
    queues_ = std::move(moved);
    for (auto& n : nodes_) {
      if (n->group < 0 || before[n->id] == members(n->group))
        continue;
      n->rep->set_quorate(is_quorate(n->group));
      n->rep->membership(members(n->group));
      collect(*n);
    }
  }

  void crash(uint32_t id) {
    sim_node& n = node(id);
    n.rep.reset();
    n.pending.clear();
    n.group = -1;
  }

  uint64_t submit(uint32_t id, write_request r) {
    sim_node& n = node(id);
    uint64_t request_id = n.rep->submit(std::move(r));
    n.pending.insert(request_id);
    collect(n);
    return request_id;
  }

  void start_check(uint32_t id) {
    node(id).rep->start_check();
    collect(node(id));
  }

  // Delivers the head message of `group`'s queue; false if empty.
  bool deliver_one(int group) {
    auto& queue = queues_[group];
    if (queue.empty())
      return false;
    auto [from, payload] = std::move(queue.front());
    queue.pop_front();
    for (uint32_t id : members(group)) {
      node(id).rep->deliver(from, payload);
      collect(node(id));
    }
    return true;
  }

  // Delivers from random non-empty groups; false if all are empty.
  bool deliver_random() {
    std::vector<int> ready;
    for (const auto& [group, queue] : queues_)
      if (!queue.empty())
        ready.push_back(group);
    if (ready.empty())
      return false;
    return deliver_one(ready[random_.below(ready.size())]);
  }

  void run_until_quiet(size_t steps_max = 100000) {
    for (size_t i = 0; i < steps_max; ++i)
      if (!deliver_random())
        return;
    ADD_FAILURE() << "the bus did not become quiet";
  }

  bool is_group_synced(int group) {
    for (uint32_t id : members(group))
      if (!node(id).rep->is_synced())
        return false;
    return true;
  }

  // Every group whose members are all synced agrees on the checksum.
  ::testing::AssertionResult synced_groups_agree() {
    std::set<int> groups;
    for (const auto& n : nodes_)
      if (n->group >= 0)
        groups.insert(n->group);
    for (int g : groups) {
      if (!is_group_synced(g))
        continue;
      auto ids = members(g);
      for (uint32_t id : ids)
        if (node(id).db->checksum() != node(ids[0]).db->checksum())
          return ::testing::AssertionFailure()
                 << "group " << g << ": node " << id << " v" << node(id).db->version()
                 << " differs from node " << ids[0] << " v" << node(ids[0]).db->version();
    }
    return ::testing::AssertionSuccess();
  }

 private:
  void collect(sim_node& n) {
    auto out = n.rep->take_output();
    for (auto& payload : out.to_send)
      queues_[n.group].emplace_back(n.id, std::move(payload));
    for (auto& [id, outcome] : out.completed) {
      n.pending.erase(id);
      n.completed.insert_or_assign(id, std::move(outcome));
    }
    n.applied.insert(n.applied.end(), out.applied.begin(), out.applied.end());
    n.state_replacements += out.state_replaced ? 1 : 0;
  }

  prng random_;
  std::vector<std::unique_ptr<sim_node>> nodes_;
  std::map<int, std::deque<std::pair<uint32_t, std::string>>> queues_;
};

}  // namespace vcube::domain::test
