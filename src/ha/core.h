// The HA decision core: a pure function from (settings, persisted HA state,
// what the manager sees now) to (the next HA state, ordered actions). No I/O,
// no clock, no threads, no randomness. docs/ha.md describes the protocol the
// caller (vcubed's manager, or tests/sim) follows around it.
//
// The caller:
//   1. builds an `input` (membership, node modes, VM configuration, the
//      vm_status reports, fence results that arrived since the last call, now);
//   2. calls decide();
//   3. persists `next` (and the placements it implies) in ONE domain write,
//      with base versions, so a stale manager's write is refused;
//   4. only after that write succeeded, performs `actions` in order
//      (fence requests, alerts). A fence's result is fed back in a later
//      input's `fence_results`.
// Executors on the nodes follow the persisted records (vm_record), never the
// actions: the record is the command, the epoch its sequence number.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vcube::ha {

// ---------------------------------------------------------------- settings

struct settings {
  int restart_max = 3;                  // automatic restarts of one VM ...
  int64_t restart_window_ms = 600'000;  // ... within this window, then error
  int64_t fence_retry_ms = 5'000;       // after a failed fence
  int64_t fence_timeout_ms = 120'000;   // a requested fence with no result: ask again
  int64_t fence_race_delay_ms = 5'000;  // two-node split: the weaker side waits this
  int64_t alert_repeat_ms = 300'000;    // the same unresolved problem is re-alerted after
};

// ---------------------------------------------------------------- input

enum class node_mode { online, standby };

struct node_info {
  std::string name;
  int id = 0;  // corosync node id; unique
  node_mode mode = node_mode::online;
  int64_t memory_mib = 0;
  bool is_member = false;         // in the manager's current (quorate) membership
  bool has_fence_device = false;  // at least one fence device covers this node
};

struct vm_info {  // a domain `vm` object (non-HA VMs count for memory only)
  std::string name;
  int64_t memory_mib = 0;
  std::string node;            // the definition's node: where it is placed now
  bool is_ha = false;          // has an `ha` section
  bool wants_running = false;  // ha.state == "started"
  int priority = 0;            // ha.priority 0..100 (higher: placed first)
  std::string preferred_node;  // ha.preferred_node, "" for none
  bool is_sticky = false;      // ha.sticky: bound to `node`, never recovered elsewhere
  // The nodes it may run on; empty: any node. With eSAN disks: the nodes
  // with a usable copy of all of them, or any node while every disk has a
  // usable copy on a member (the others run it diskless).
  std::vector<std::string> allowed_nodes{};
  // The nodes with a usable copy of all its eSAN disks: placement prefers
  // them (its I/O stays local).
  std::vector<std::string> local_nodes{};
  // The nodes holding a copy of its eSAN disks. Where it runs on another
  // node, one of them serves its disks; a lost one may have been serving,
  // so it is fenced before its peer takes over.
  std::vector<std::string> storage_nodes{};
};

enum class run_state { running, paused, stopped, crashed };

struct vm_report {  // a domain `vm_status` object
  std::string vm;
  std::string node;  // the reporting node
  run_state state = run_state::stopped;
  std::string reason;    // "guest shut down", "host request", "crash: ...", "start failed: ..."
  int64_t ha_epoch = 0;  // the record epoch the node's executor has settled (0: none)
};

struct fence_result {
  std::string node;
  bool is_confirmed = false;  // off, and status confirmed off
  std::string message;        // why not, for the alert and the status
};

// A request from an administrator, consumed by decide() (docs/ha.md).
struct move_request {
  std::string vm;
  std::string node;  // target node
};

struct input {
  int64_t now_ms = 0;                       // wall clock, unix ms; may jump both ways
  std::string self;                         // the manager node (always a member)
  int cluster_node_count = 0;               // nodes in the domain (2: two-node fence race rules)
  std::vector<node_info> nodes;             // every node of the domain
  std::vector<vm_info> vms;                 // every VM of the domain
  std::vector<vm_report> reports;           // every vm_status
  std::vector<fence_result> fence_results;  // arrived since the last decide()
  std::vector<move_request> move_requests;  // pending; each is consumed (answered) once
};

// ---------------------------------------------------------------- state

// One HA VM's record, written by the manager only (domain kind `ha_vm`).
// The executor of `node` follows it: target_running → start the VM if it is
// not running; !target_running → shut it down (ACPI, then power off). It
// reports `ha_epoch = epoch` in vm_status once it has done so and holds no
// action on the VM. The manager changes `node` only when the VM is known to
// run nowhere: its report settled this epoch as stopped/crashed on `node`,
// or `node` was fenced after the record was written.
enum class vm_state {
  stopped,      // not wanted running; target stopped
  starting,     // target running, waiting for the node's report
  started,      // running where the record says
  stopping,     // wanted stopped (or moving): waiting for the settled stop
  moving,       // stopping on `node` to start on `move_to`
  fence_wait,   // `node` was lost; waiting for its fence to be confirmed
  recovering,   // fenced; waiting for a node with room
  sticky_down,  // sticky and its node is down: waits for that node
  error,        // restart limit reached or cannot be placed; needs an administrator
};

struct vm_record {
  std::string node;  // where the executor must act ("" when unplaced)
  bool target_running = false;
  int64_t epoch = 0;  // bumped on every command to the executor
  vm_state state = vm_state::stopped;
  std::string move_to;               // state moving: the destination
  std::vector<int64_t> restarts_ms;  // automatic restarts inside the window
  std::string message;               // why error / recovering / sticky_down
  int64_t since_ms = 0;              // last state change
  friend bool operator==(const vm_record&, const vm_record&) = default;
};

// One lost node's fence (domain kind `ha_fence`, name = node).
enum class fence_state {
  requested,  // a fence action was emitted by `owner`
  failed,     // the last attempt failed; retry at next_attempt_ms
  confirmed,  // powered off; stays until the node is a member again
};

struct fence_record {
  fence_state state = fence_state::requested;
  int attempts = 0;
  std::string owner;            // the manager that emitted the last attempt
  int64_t requested_ms = 0;     // the first request
  int64_t attempt_ms = 0;       // the last attempt
  int64_t next_attempt_ms = 0;  // state failed
  std::string message;          // the last failure
  friend bool operator==(const fence_record&, const fence_record&) = default;
};

struct state {
  std::map<std::string, vm_record> vms;        // HA VMs only
  std::map<std::string, fence_record> fences;  // lost nodes
  std::map<std::string, int64_t> alerted_ms;   // alert key → last raised (repeat limit)
  friend bool operator==(const state&, const state&) = default;
};

// ---------------------------------------------------------------- actions

struct fence_node {  // run the node's fence devices (levels in order): off + status
  std::string node;
  int64_t delay_ms = 0;  // fence race: wait this long before the first request
};

struct raise_alert {
  std::string severity;  // "critical" | "warning" | "info"
  std::string subject;   // "fence failed: n2"
  std::string text;
};

struct answer_move {  // the move request for `vm` is consumed
  std::string vm;
  bool is_accepted = false;
  std::string message;  // why not
};

using action = std::variant<fence_node, raise_alert, answer_move>;

struct output {
  state next;
  std::vector<action> actions;
};

// The caller calls decide() only while its partition is quorate: the input of
// a minority never reaches it (docs/ha.md, "The decision core").
output decide(const settings& settings, const state& current, const input& in);

// Stable lower-case names ("fence_wait", "confirmed") for status and logs.
const char* to_string(vm_state s);
const char* to_string(fence_state s);

}  // namespace vcube::ha
