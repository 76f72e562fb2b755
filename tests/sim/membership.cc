// Partitions, quorum and the domain copies' merge and write rules.
#include <algorithm>

#include "tests/sim/world.h"

namespace vcube::sim {

std::vector<std::string> world::members_of(const std::string& node) const {
  std::vector<std::pair<int, std::string>> by_id;
  const sim_node& self = sim_nodes_.at(node);
  for (const node_def& d : nodes_) {
    const sim_node& n = sim_nodes_.at(d.name);
    if (n.is_powered && n.group == self.group) {
      by_id.emplace_back(d.id, d.name);
    }
  }
  std::sort(by_id.begin(), by_id.end());
  std::vector<std::string> names;
  for (auto& [id, name] : by_id) {
    names.push_back(name);
  }
  return names;
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
    std::vector<std::string> members = members_of(d.name);
    if (members.size() == nodes_.size()) {
      n.has_seen_all = true;
    }
    if (members.front() != d.name) {
      continue;  // the lowest id member syncs its partition
    }
    const domain_copy* best = nullptr;
    std::string best_name;
    for (const std::string& m : members) {  // lowest id first: ties keep it
      const domain_copy& c = sim_nodes_.at(m).store;
      if (best == nullptr || c.version > best->version) {
        best = &c;
        best_name = m;
      }
    }
    domain_copy winner = *best;
    for (const std::string& m : members) {
      if (sim_nodes_.at(m).store.version != winner.version && m != best_name) {
        note("sync: " + m + " takes " + best_name + "'s copy");
      }
      sim_nodes_.at(m).store = winner;
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
  for (const std::string& m : members_of(writer)) {
    sim_nodes_.at(m).store = next;
  }
}

}  // namespace vcube::sim
