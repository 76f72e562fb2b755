// Partitions, quorum and the domain copies' merge and write rules.
#include <algorithm>

#include "tests/sim/world.h"

namespace vcube::sim {

const std::vector<std::string>& world::members_of(const std::string& node) const {
  if (is_membership_stale_) {
    members_cache_.clear();
    std::vector<std::pair<int, std::string>> by_id;
    for (const node_def& d : nodes_) {
      by_id.emplace_back(d.id, d.name);
    }
    std::sort(by_id.begin(), by_id.end());
    for (const auto& [id, name] : by_id) {
      const sim_node& n = sim_nodes_.at(name);
      if (n.is_powered) {
        members_cache_[n.group].push_back(name);
      }
    }
    is_membership_stale_ = false;
  }
  return members_cache_[sim_nodes_.at(node).group];
}

bool world::is_quorate(const std::string& node) const {
  const sim_node& n = sim_nodes_.at(node);
  if (!n.is_powered) {
    return false;
  }
  size_t count = members_of(node).size();
  if (nodes_.size() == 2) {
    return n.has_seen_all;  // two_node + wait_for_all
  }
  return count * 2 > nodes_.size();
}

void world::sync_partitions() {
  for (const node_def& d : nodes_) {
    sim_node& n = sim_nodes_.at(d.name);
    if (!n.is_powered) {
      continue;
    }
    const std::vector<std::string>& members = members_of(d.name);
    if (members.size() == nodes_.size()) {
      n.has_seen_all = true;
    }
    if (members.front() != d.name) {
      continue;  // the lowest id member syncs its partition
    }
    // As the replicator: in a two-node cluster, among the nodes synced in a
    // quorate partition since they powered on (if any), the highest version.
    bool is_any_synced = false;
    for (const std::string& m : members) {
      is_any_synced = is_any_synced || sim_nodes_.at(m).has_synced;
    }
    const domain_copy* best = nullptr;
    std::string best_name;
    for (const std::string& m : members) {  // lowest id first: ties keep it
      const domain_copy& c = sim_nodes_.at(m).store;
      if (nodes_.size() == 2 && is_any_synced && !sim_nodes_.at(m).has_synced) {
        continue;
      }
      if (best == nullptr || c.version > best->version) {
        best = &c;
        best_name = m;
      }
    }
    for (const std::string& m : members) {
      domain_copy& c = sim_nodes_.at(m).store;
      if (c.write_id != best->write_id) {
        if (c.version != best->version) {
          note("sync: " + m + " takes " + best_name + "'s copy");
        }
        c = *best;
      }
    }
    for (const std::string& m : members) {
      sim_nodes_.at(m).has_synced = sim_nodes_.at(m).has_synced || is_quorate(m);
    }
  }
}

void world::write(const std::string& writer, const std::function<void(domain_copy&)>& change) {
  if (!is_quorate(writer)) {
    return;
  }
  domain_copy next = sim_nodes_.at(writer).store;
  change(next);
  ++next.version;
  next.write_id = ++last_write_id_;
  for (const std::string& m : members_of(writer)) {
    sim_nodes_.at(m).store = next;
  }
}

}  // namespace vcube::sim
