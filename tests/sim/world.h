// world: a simulated cluster that runs the HA core the way vcubed will.
//
// Nodes have a power state, a partition (network group) and their own copy of
// the domain store (version, persisted HA state, vm.node placements, vm_status
// reports). Writes apply only in a quorate partition (a majority of nodes, or
// either side of a two-node cluster once it has seen the other since boot,
// like corosync's two_node + wait_for_all) and reach every member's copy; when
// partitions meet, the copy with the higher version wins (ties: lower node
// id), as docs/domain.md says. The manager of a quorate partition (its lowest
// node id) calls decide() on its copy, writes `next` and the placements in one
// write, then runs the actions. Executors follow the records of their own
// copy, once per epoch. The power switch runs one request at a time.
// Ground truth (which node runs which QEMU) is what the invariants check.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ha/core.h"
#include "tests/sim/prng.h"

namespace vcube::sim {

struct vm_def {
  std::string name;
  int64_t memory_mib = 1024;
  std::string home;  // vm.node before any placement
  bool wants_running = true;
  int priority = 0;
  std::string preferred;
  bool is_sticky = false;
  // The nodes with copies of its eSAN disks (placement prefers them; a lost
  // one is fenced while the VM runs diskless elsewhere); empty: none.
  std::vector<std::string> disk_nodes{};
};

struct node_def {
  std::string name;
  int id = 0;
  int64_t memory_mib = 4096;
  bool has_fence_device = true;
  ha::node_mode mode = ha::node_mode::online;
};

struct domain_copy {
  int64_t version = 0;
  int64_t write_id = 0;  // which write made it: equal ids, equal copies (sync skips them)
  ha::state ha;
  std::map<std::string, std::string> placement;  // vm → vm.node
  std::map<std::string, ha::vm_report> reports;  // vm → its one vm_status
};

struct fence_fault {
  int failures = 0;  // the next attempts that fail
  bool is_unreachable = false;
  int64_t extra_latency_ms = 0;
};

struct timing {
  int64_t step_ms = 100;
  int64_t start_latency_ms = 2000;
  int64_t stop_latency_ms = 1000;
  int64_t fence_latency_ms = 3000;
  int64_t report_delay_ms = 0;  // reports travel this long before they are written
  int report_loss_percent = 0;  // reports lost on the way (the executor sends again)
};

class world {
 public:
  world(std::vector<node_def> nodes, std::vector<vm_def> vms, ha::settings settings, timing timing,
        uint64_t seed);

  // One step of step_ms: deliveries, the switch, membership, executors, managers.
  void step();
  int64_t now_ms() const { return now_ms_; }

  // Faults and administrator commands.
  void crash_node(const std::string& node);  // power lost: its VMs die, not a fence
  void power_on(const std::string& node);
  void partition(const std::vector<std::vector<std::string>>& groups);  // the rest: group 0
  void heal();
  void set_fence_fault(const std::string& node, fence_fault fault);
  void stop_guest(const std::string& vm, bool is_crash);  // guest power-off or QEMU crash
  void fail_next_starts(const std::string& vm, int count);
  void jump_clock_ms(int64_t delta_ms);  // every node's wall clock
  void request_move(const std::string& vm, const std::string& node);
  node_def& node(const std::string& name);
  vm_def& vm(const std::string& name);
  timing& timings() { return timing_; }

  // Ground truth and inspection.
  const std::map<std::string, std::set<std::string>>& running() const { return running_; }
  const std::vector<node_def>& node_defs() const { return nodes_; }
  const std::vector<vm_def>& vm_defs() const { return vms_; }
  bool is_powered(const std::string& node) const;
  // The HA state of the copy with the highest version (the cluster's view).
  const domain_copy& newest_copy() const;
  std::vector<std::string> violations() const { return violations_; }

  // Event log (compact, one line per event) when enabled.
  void enable_log() { is_logging_ = true; }
  const std::vector<std::string>& log() const { return log_; }
  void note(const std::string& line);

 private:
  struct executor_vm {
    int64_t handled_epoch = 0;
    bool is_busy = false;
    bool is_starting = false;
    int64_t acting_epoch = 0;
    int64_t done_ms = 0;
    ha::run_state last_state = ha::run_state::stopped;
    std::string last_reason;
    int64_t report_sent_ms = -1;
    ha::vm_report last_sent;
  };
  struct sim_node {
    bool is_powered = true;
    int group = 0;
    int boot = 0;
    bool has_seen_all = true;
    bool has_synced = true;  // synced in a quorate partition since it powered on
    int64_t clock_offset_ms = 0;
    domain_copy store;
    std::map<std::string, executor_vm> executor;
    std::vector<ha::fence_result> fence_results;
    int64_t last_decide_ms = -1'000'000;
    int64_t last_decided_version = -1;
  };
  struct report_message {
    int64_t deliver_ms = 0;
    std::string from;
    int boot = 0;
    ha::vm_report report;
  };
  struct fence_request {
    int64_t at_ms = 0;
    std::string requester;
    std::string target;
  };

  // membership.cc
  const std::vector<std::string>& members_of(const std::string& node) const;
  bool is_quorate(const std::string& node) const;
  void sync_partitions();
  void write(const std::string& writer, const std::function<void(domain_copy&)>& change);
  // executor.cc
  void run_executor(const std::string& name, sim_node& n);
  void act(const std::string& name, sim_node& n, const std::string& vm, const ha::vm_record& r);
  void finish(const std::string& name, const std::string& vm, executor_vm& e);
  void send_report(const std::string& name, sim_node& n, const std::string& vm);
  // power_switch.cc
  void run_switch();
  void power_off(const std::string& node, bool is_fence);
  // manager.cc
  void run_managers();
  void manage(const std::string& name, sim_node& n);
  ha::input build_input(const std::string& name, const sim_node& n) const;
  void log_changes(const domain_copy& before, const ha::state& after);
  // invariants.cc
  void vm_started(const std::string& vm, const std::string& node);
  void check_step();

  std::vector<node_def> nodes_;
  std::vector<vm_def> vms_;
  ha::settings settings_;
  timing timing_;
  prng rng_;
  int64_t now_ms_ = 0;
  int64_t last_write_id_ = 0;
  std::map<std::string, sim_node> sim_nodes_;
  std::map<std::string, std::set<std::string>> running_;  // vm → nodes (ground truth)
  std::map<std::string, int> start_failures_;
  std::map<std::string, fence_fault> fence_faults_;
  std::vector<report_message> messages_;
  std::vector<fence_request> fence_requests_;  // waiting out their delay
  std::deque<fence_request> switch_queue_;
  bool is_switch_busy_ = false;
  fence_request switch_op_;
  int64_t switch_done_ms_ = 0;
  std::vector<ha::move_request> move_requests_;
  std::set<std::string> down_unfenced_;         // crashed, not yet confirmed off
  std::map<std::string, std::string> lost_on_;  // vm → the crashed node it died on
  std::vector<std::string> violations_;
  // Members per partition group, recomputed when power or partitions change.
  mutable std::map<int, std::vector<std::string>> members_cache_;
  mutable bool is_membership_stale_ = true;
  bool is_logging_ = false;
  std::vector<std::string> log_;
};

}  // namespace vcube::sim
