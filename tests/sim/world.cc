#include "tests/sim/world.h"

#include <cstdio>
#include <utility>

#include "ha/check.h"

namespace vcube::sim {

world::world(std::vector<node_def> nodes, std::vector<vm_def> vms, ha::settings settings,
             timing timing, uint64_t seed)
    : nodes_(std::move(nodes)),
      vms_(std::move(vms)),
      settings_(settings),
      timing_(timing),
      rng_(seed) {
  for (const node_def& n : nodes_) {
    sim_nodes_[n.name];
  }
}

node_def& world::node(const std::string& name) {
  for (node_def& n : nodes_) {
    if (n.name == name) {
      return n;
    }
  }
  HA_CHECK(!"unknown node");
  return nodes_.front();
}

vm_def& world::vm(const std::string& name) {
  for (vm_def& v : vms_) {
    if (v.name == name) {
      return v;
    }
  }
  HA_CHECK(!"unknown vm");
  return vms_.front();
}

bool world::is_powered(const std::string& node) const {
  return sim_nodes_.at(node).is_powered;
}

void world::note(const std::string& line) {
  if (is_logging_) {
    char time[32];
    std::snprintf(time, sizeof time, "%7.1f ", static_cast<double>(now_ms_) / 1000.0);
    log_.push_back(time + line);
  }
}

void world::step() {
  now_ms_ += timing_.step_ms;
  // Partitions that met agree on one copy before any write is applied (the
  // domain refuses writes while syncing).
  sync_partitions();
  std::vector<report_message> due;
  std::erase_if(messages_, [&](const report_message& m) {
    if (m.deliver_ms > now_ms_) {
      return false;
    }
    due.push_back(m);
    return true;
  });
  for (const report_message& m : due) {
    const sim_node& from = sim_nodes_.at(m.from);
    if (from.is_powered && from.boot == m.boot) {
      write(m.from, [&](domain_copy& c) { c.reports[m.report.vm] = m.report; });
    }
  }
  run_switch();
  sync_partitions();
  for (auto& [name, n] : sim_nodes_) {
    if (n.is_powered) {
      run_executor(name, n);
    }
  }
  run_managers();
  check_step();
}

void world::crash_node(const std::string& node) {
  if (is_powered(node)) {
    note(node + " crashes");
    power_off(node, false);
  }
}

void world::power_on(const std::string& node) {
  sim_node& n = sim_nodes_.at(node);
  if (n.is_powered) {
    return;
  }
  note(node + " powers on");
  n.is_powered = true;
  is_membership_stale_ = true;
  ++n.boot;
  n.has_seen_all = false;
  n.has_synced = false;
  n.executor.clear();
  n.fence_results.clear();
  n.last_decided_version = -1;
  down_unfenced_.erase(node);
  // A power cycle accounts for the VMs that died there as a fence would:
  // they run nowhere now, and a later crash of the node is not theirs.
  std::erase_if(lost_on_, [&](const auto& entry) { return entry.second == node; });
  // The executor remembers which epochs it settled through its own reports.
  for (const auto& [vm, report] : n.store.reports) {
    if (report.node == node) {
      n.executor[vm].handled_epoch = report.ha_epoch;
    }
  }
}

void world::partition(const std::vector<std::vector<std::string>>& groups) {
  for (auto& [name, n] : sim_nodes_) {
    n.group = 0;
  }
  std::string text;
  for (size_t g = 0; g < groups.size(); ++g) {
    text += g == 0 ? "" : " | ";
    for (const std::string& name : groups[g]) {
      sim_nodes_.at(name).group = static_cast<int>(g) + 1;
      is_membership_stale_ = true;
      text += name + " ";
    }
  }
  note("partition " + text);
}

void world::heal() {
  note("heal");
  is_membership_stale_ = true;
  for (auto& [name, n] : sim_nodes_) {
    n.group = 0;
  }
}

void world::set_fence_fault(const std::string& node, fence_fault fault) {
  fence_faults_[node] = fault;
}

void world::stop_guest(const std::string& vm, bool is_crash) {
  auto it = running_.find(vm);
  if (it == running_.end() || it->second.empty()) {
    return;
  }
  std::string node = *it->second.begin();
  note(vm + (is_crash ? " crashes on " : " powers itself off on ") + node);
  it->second.erase(node);
  executor_vm& e = sim_nodes_.at(node).executor[vm];
  e.last_state = is_crash ? ha::run_state::crashed : ha::run_state::stopped;
  e.last_reason = is_crash ? "crash: sim" : "guest shut down";
}

void world::fail_next_starts(const std::string& vm, int count) {
  start_failures_[vm] = count;
}

void world::jump_clock_ms(int64_t delta_ms) {
  note("clock " + std::string(delta_ms >= 0 ? "+" : "") + std::to_string(delta_ms / 1000) + "s");
  for (auto& [name, n] : sim_nodes_) {
    n.clock_offset_ms += delta_ms;
  }
}

void world::request_move(const std::string& vm, const std::string& node) {
  move_requests_.push_back(ha::move_request{vm, node});
}

const domain_copy& world::newest_copy() const {
  const domain_copy* best = nullptr;
  for (const auto& [name, n] : sim_nodes_) {
    if (best == nullptr || n.store.version > best->version) {
      best = &n.store;
    }
  }
  return *best;
}

}  // namespace vcube::sim
